#pragma once
// What the FastCGI adapter tells an observer (metrics) about each admission
// decision. Implementations must be cheap and must not throw.
#include <chrono>
#include <cstdint>

#include "admission/gate.h"

namespace authd::admission {

class Observer {
 public:
  virtual ~Observer() = default;
  // A request a worker took and served: how long it had waited.
  virtual void admitted(Lane lane, std::int64_t wait_ms) noexcept = 0;
  // A request refused for its wait, and the CPU its refusal cost this worker
  // (from the accept to the close).
  virtual void refused(Lane lane, std::int64_t wait_ms, std::chrono::nanoseconds cpu) noexcept = 0;
};

}  // namespace authd::admission
