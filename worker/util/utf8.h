#pragma once
// UTF-8 as the contract wants it: no overlong forms, no surrogates, nothing
// above U+10FFFF.
#include <cstddef>
#include <string>
#include <string_view>

namespace authd {

// Length of the valid sequence starting at text[i], or 0 when invalid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

bool is_valid_utf8(std::string_view text);

// `text` with each byte that starts no valid sequence replaced by U+FFFD:
// for untrusted text (a user agent) that must reach JSON or a log line.
std::string sanitize_utf8(std::string_view text);

}  // namespace authd
