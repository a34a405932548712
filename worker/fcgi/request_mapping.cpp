#include "fcgi/request_mapping.h"

#include <fcgiapp.h>

#include <charconv>
#include <optional>
#include <string>

#include "http/app.h"

namespace authd::fcgi {
namespace {

std::string param(char** envp, const char* name) {
  const char* v = FCGX_GetParam(name, envp);
  return v ? std::string(v) : std::string();
}

std::optional<std::string> optional_param(char** envp, const char* name) {
  const char* v = FCGX_GetParam(name, envp);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace

http::Request request_from_params(char** envp) {
  http::Request r;
  r.method = param(envp, "REQUEST_METHOD");
  r.path = param(envp, "DOCUMENT_URI");
  if (r.path.empty()) {
    r.path = param(envp, "REQUEST_URI");
    r.path = r.path.substr(0, r.path.find('?'));
  }
  r.query = param(envp, "QUERY_STRING");
  auto ct = optional_param(envp, "CONTENT_TYPE");
  if (ct && !ct->empty()) r.content_type = std::move(ct);
  r.authorization = optional_param(envp, "HTTP_AUTHORIZATION");
  r.request_id = param(envp, "HTTP_X_REQUEST_ID");
  r.remote_addr = param(envp, "REMOTE_ADDR");
  r.user_agent = param(envp, "HTTP_USER_AGENT");
  r.https = param(envp, "HTTPS") == "on";

  std::string length = param(envp, "CONTENT_LENGTH");
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
  if (request.content_length && *request.content_length > http::kMaxBodyBytes) return 0;
  return http::kMaxBodyBytes + 1;
}

}  // namespace authd::fcgi
