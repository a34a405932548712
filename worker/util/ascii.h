#pragma once
// Small ASCII helpers shared by the parsers of headers and lists (a hex
// digit's value is util/hex.h).
#include <string_view>

namespace authd {

// `s` without leading and trailing spaces and tabs (HTTP's OWS).
constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace authd
