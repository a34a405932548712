#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace authd::http {

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void set_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  const std::string* header(std::string_view name) const;
};

// What the request log line says about a request beyond method and status.
struct RequestContext {
  std::string route;    // the route pattern, not the raw path
  std::string user_id;  // when known
};

const char* reason_phrase(int status);

}  // namespace authd::http
