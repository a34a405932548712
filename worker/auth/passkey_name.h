#pragma once
// A passkey's name, as its owner gives it (API.md: 1-64 code points after
// Unicode NFC, no control characters; "Passkey" when none is given).
#include <optional>
#include <string>
#include <string_view>

namespace authd {

inline constexpr std::string_view kDefaultPasskeyName = "Passkey";
inline constexpr std::size_t kMaxPasskeyNameCodePoints = 64;

// The name in NFC, or nullopt when it is not valid UTF-8, is empty or
// longer than 64 code points after NFC, or holds a control character (C0,
// DEL, C1).
std::optional<std::string> passkey_name(std::string_view utf8);

}  // namespace authd
