#pragma once

namespace authd {

// Readiness: whether the database answers (backs /health/ready).
class HealthProbe {
 public:
  virtual ~HealthProbe() = default;
  virtual bool database_ready() = 0;
};

}  // namespace authd
