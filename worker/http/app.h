#pragma once
// The HTTP layer's front: route, size, then the handler; every exception is
// caught here (503 for a database that cannot be reached, 500 otherwise), so
// nothing escapes to the FastCGI adapter. One request log line each.
#include <cstddef>
#include <cstdint>

#include "http/request.h"
#include "http/request_observer.h"
#include "http/response.h"
#include "http/router.h"

namespace authd::http {

inline constexpr std::size_t kMaxBodyBytes = 16 * 1024;

class HttpApp {
 public:
  // `observer` (optional) hears of every request: metrics. `lane`: the
  // listen queue this worker serves; a fast-lane worker answers only the
  // fast lane's paths (the others are 404 here: nginx never sends them, and
  // a fast-lane worker must never hash, since the memory budget counts only
  // the hashing lane's workers).
  explicit HttpApp(Router router, RequestObserver* observer = nullptr, Lane lane = Lane::hashing)
      : router_(std::move(router)), observer_(observer), lane_(lane) {}

  Response handle(const Request& request) noexcept;

  // The answer to a request that waited longer than the admission budget:
  // 503 unavailable + Retry-After, nothing done. Built without routing and
  // without a request log line (a refusal must cost next to nothing; the
  // metrics count them, and a summary is logged).
  Response refuse_for_wait(const Request& request, std::int64_t waited_ms,
                           std::int64_t budget_ms) noexcept;

 private:
  Response dispatch(const Request& request, RequestContext& context);

  Router router_;
  RequestObserver* observer_;
  Lane lane_;
};

}  // namespace authd::http
