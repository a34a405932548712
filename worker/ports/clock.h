#pragma once
// Wall-clock time, injectable so tests can move it (expiry, grace windows,
// throttling). All times in the service are Unix seconds or milliseconds, UTC.
#include <cstdint>

namespace authd {

using UnixSeconds = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() const = 0;
  UnixSeconds now() const { return now_ms() / 1000; }
};

}  // namespace authd
