#pragma once
// What the HTTP layer tells an observer about each request it answers
// (metrics): the start, and the route pattern, status and duration at the
// end. Implementations must be cheap and must not throw.
#include <chrono>
#include <string_view>

namespace authd::http {

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void request_started() noexcept = 0;
  // `route` is the matched pattern ("/auth/sessions/{id}"), empty when no
  // route matched.
  virtual void request_finished(std::string_view route, int status,
                                std::chrono::nanoseconds took) noexcept = 0;
};

}  // namespace authd::http
