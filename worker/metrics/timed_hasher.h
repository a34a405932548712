#pragma once
// A PasswordHasher that times the one it wraps and reports each hash and
// verify to a MetricsSink: the password-hash histogram, without the hasher
// or the service knowing about metrics.
#include "ports/metrics_sink.h"
#include "ports/password_hasher.h"

namespace authd::metrics {

class TimedHasher final : public PasswordHasher {
 public:
  TimedHasher(PasswordHasher& inner, MetricsSink& sink) : inner_(inner), sink_(sink) {}

  std::string hash(std::string_view password) override;
  bool verify(std::string_view stored_hash, std::string_view password) override;
  bool needs_rehash(std::string_view stored_hash) override {
    return inner_.needs_rehash(stored_hash);
  }

 private:
  PasswordHasher& inner_;
  MetricsSink& sink_;
};

}  // namespace authd::metrics
