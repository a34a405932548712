#pragma once
// A URL query string as a list of (name, value) pairs: split on '&', each
// part on its first '=', both sides percent-decoded (RFC 3986). A '+' is a
// plus sign, not a space (this is a query, not a form body). Pairs keep
// their order and repeats, so a caller can refuse a parameter given twice.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace authd::http {

struct QueryParam {
  std::string name;
  std::string value;
  bool has_value = false;  // "a=" has one (empty); "a" has none
};

// nullopt when a '%' is not followed by two hex digits. Empty parts ("a&&b",
// a trailing '&') are skipped.
std::optional<std::vector<QueryParam>> parse_query(std::string_view query);

// Percent-decoding alone; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace authd::http
