#pragma once
// The HTTP layer's front: route, size, then the handler; every exception is
// caught here (503 for a database that cannot be reached, 500 otherwise), so
// nothing escapes to the FastCGI adapter. One request log line each.
#include <cstddef>

#include "http/request.h"
#include "http/request_observer.h"
#include "http/response.h"
#include "http/router.h"

namespace authd::http {

inline constexpr std::size_t kMaxBodyBytes = 16 * 1024;

class HttpApp {
 public:
  // `observer` (optional) hears of every request: metrics.
  explicit HttpApp(Router router, RequestObserver* observer = nullptr)
      : router_(std::move(router)), observer_(observer) {}

  Response handle(const Request& request) noexcept;

 private:
  Response dispatch(const Request& request, RequestContext& context);

  Router router_;
  RequestObserver* observer_;
};

}  // namespace authd::http
