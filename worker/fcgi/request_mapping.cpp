#include "fcgi/request_mapping.h"

#include <sodium.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/app.h"

namespace authd::fcgi {

namespace {

// nginx's $msec: seconds since the epoch, a dot, three digits of
// milliseconds. Anything else is no stamp at all.
std::optional<std::int64_t> parse_msec(std::string_view text) {
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view millis = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 12 || (dot != std::string_view::npos && millis.size() != 3)) {
    return std::nullopt;
  }
  std::int64_t seconds = 0;
  std::int64_t ms = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc() || end != whole.data() + whole.size() || seconds < 0) return std::nullopt;
  if (!millis.empty()) {
    auto [mend, mec] = std::from_chars(millis.data(), millis.data() + millis.size(), ms);
    if (mec != std::errc() || mend != millis.data() + millis.size() || ms < 0) return std::nullopt;
  }
  return seconds * 1000 + ms;
}

}  // namespace

bool is_valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  char hex[2 * sizeof raw + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return std::string(hex, 2 * sizeof raw);
}

// The parameters the HTTP layer reads, picked out of nginx's list in one
// pass (FCGX_GetParam would scan the whole list once per name). As with
// FCGX_GetParam, the first of two equal names wins: nginx puts the
// parameters it sets itself (fastcgi_param) before the request's headers.
http::Request request_from_params(char** envp) {
  http::Request r;
  std::string_view document_uri, request_uri, content_type, length;
  bool has_content_type = false;
  unsigned seen = 0;
  auto first = [&seen](unsigned bit) {
    const bool is_first = (seen & bit) == 0;
    seen |= bit;
    return is_first;
  };
  for (char** p = envp; p != nullptr && *p != nullptr; ++p) {
    const std::string_view entry(*p);
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = entry.substr(0, eq);
    const std::string_view value = entry.substr(eq + 1);
    if (name == "REQUEST_METHOD") {
      if (first(1u << 0)) r.method = value;
    } else if (name == "DOCUMENT_URI") {
      if (first(1u << 1)) document_uri = value;
    } else if (name == "REQUEST_URI") {
      if (first(1u << 2)) request_uri = value;
    } else if (name == "QUERY_STRING") {
      if (first(1u << 3)) r.query = value;
    } else if (name == "CONTENT_TYPE") {
      if (first(1u << 4)) {
        content_type = value;
        has_content_type = true;
      }
    } else if (name == "CONTENT_LENGTH") {
      if (first(1u << 5)) length = value;
    } else if (name == "HTTP_AUTHORIZATION") {
      if (first(1u << 6)) r.authorization = std::string(value);
    } else if (name == "HTTP_X_REQUEST_ID") {
      if (first(1u << 7)) r.request_id = value;
    } else if (name == "REMOTE_ADDR") {
      if (first(1u << 8)) r.remote_addr = value;
    } else if (name == "HTTP_USER_AGENT") {
      if (first(1u << 9)) r.user_agent = value;
    } else if (name == "HTTPS") {
      if (first(1u << 10)) r.https = value == "on";
    } else if (name == "AUTHD_QUEUED_AT") {
      if (first(1u << 11)) r.queued_at_ms = parse_msec(value);
    }
  }
  r.path = document_uri.empty() ? request_uri.substr(0, request_uri.find('?')) : document_uri;
  // nginx replaces an unsafe id with its own, but anyone who reaches the
  // socket some other way must not get a header (or a log field) of their
  // choosing back: the worker judges the id itself (finding 7).
  if (!is_valid_request_id(r.request_id)) r.request_id = new_request_id();
  if (has_content_type && !content_type.empty()) r.content_type = std::string(content_type);

  if (!length.empty()) {
    std::size_t declared = 0;
    auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), declared);
    if (ec != std::errc() || end != length.data() + length.size()) {
      declared = http::kMaxBodyBytes + 1;  // unreadable: refuse as too large
    }
    r.content_length = declared;
  }
  return r;
}

std::size_t body_bytes_to_read(const http::Request& request) {
  // Never more than the cap (+1 to notice an overflow): the HTTP layer
  // answers 413 for a declared or actual size beyond it.
  if (request.content_length && *request.content_length > http::kMaxBodyBytes) return 0;
  return http::kMaxBodyBytes + 1;
}

}  // namespace authd::fcgi
