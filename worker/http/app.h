#pragma once
// The HTTP layer's front: route, size, then the handler; every exception is
// caught here (503 for a database that cannot be reached, 500 otherwise), so
// nothing escapes to the FastCGI adapter. One request log line each.
#include <cstddef>

#include "http/request.h"
#include "http/response.h"
#include "http/router.h"

namespace authd::http {

inline constexpr std::size_t kMaxBodyBytes = 16 * 1024;

class HttpApp {
 public:
  explicit HttpApp(Router router) : router_(std::move(router)) {}

  Response handle(const Request& request) noexcept;

 private:
  Response dispatch(const Request& request, RequestContext& context);

  Router router_;
};

}  // namespace authd::http
