#pragma once
// A URL query string as a list of (name, value) pairs: split on '&', each
// part on its first '=', both sides percent-decoded (RFC 3986). A '+' is a
// plus sign, not a space (this is a query, not a form body): API.md says so
// for the admin search's `email` (`a+b@x` means what it says), and a
// require_amr list holds no spaces. Pairs keep their order and repeats, so a
// caller can refuse a parameter given twice. The one parser of GET
// /auth/verify's require_amr and of GET /admin/users.
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authd::http {

struct QueryParam {
  std::string name;
  std::string value;
  bool has_value = false;  // "a=" has one (empty); "a" has none
};

struct ParsedQuery {
  // The readable pairs, in order, repeats kept. Empty parts ("a&&b", a
  // trailing '&') are skipped.
  std::vector<QueryParam> params;
  // The first part that could not be read (a '%' not followed by two hex
  // digits), by its name as far as it could be decoded; nullopt when every
  // part was fine. Parts after it are still read, so a caller can name the
  // field, but one that must never fail open refuses the whole query.
  std::optional<std::string> malformed;

  // The value of `name` (empty when given without '='); nullopt when absent.
  std::optional<std::string_view> get(std::string_view name) const;
  // How many times `name` was given.
  std::size_t count(std::string_view name) const;
  // The first of `names` given more than once, if any.
  std::optional<std::string_view> repeated(std::initializer_list<std::string_view> names) const;
};

ParsedQuery parse_query(std::string_view query);

// Percent-decoding alone; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace authd::http
