#pragma once
// Base64url without padding (RFC 4648 §5): tokens, JWT parts, ids.
#include <optional>
#include <string>
#include <string_view>

namespace authd {

std::string base64url_encode(std::string_view bytes);
// nullopt on any character outside the alphabet, padding, or a bad length.
std::optional<std::string> base64url_decode(std::string_view text);

std::string hex_encode(std::string_view bytes);

}  // namespace authd
