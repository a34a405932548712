#pragma once
// A query string as the admin API reads it: `name=value` pairs split on
// `&`, names and values percent-decoded, `+` left as a plus sign (API.md:
// an email filter `a+b@x` means what it says).
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authd::http {

struct QueryParam {
  std::string name;
  std::string value;
};

struct ParsedQuery {
  std::vector<QueryParam> params;
  // The first parameter that could not be read (a `%` not followed by two
  // hex digits), by its name as far as it could be read; nullopt when all
  // were fine.
  std::optional<std::string> malformed;

  // The value of `name`; nullopt when absent.
  std::optional<std::string_view> get(std::string_view name) const;
  // The first of `names` given more than once, if any.
  std::optional<std::string_view> repeated(std::initializer_list<std::string_view> names) const;
};

ParsedQuery parse_query(std::string_view query);

// Percent-decoding alone; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace authd::http
