#pragma once
// How a write unit that lost to a concurrent one is run again: a deadlock
// victim on one server, and on a Galera cluster (MySQL Group Replication
// alike) a transaction that failed certification against a commit made
// through another node (1213). The server rolled it back whole, so running
// it again from the start is safe and, after catching up with the commit it
// lost to, usually wins. Bounded, with jitter, so that two units that keep
// colliding drift apart instead of colliding in step.
//
// Used in exactly two places: MysqlTransactionRunner (every transaction)
// and Connection::execute outside a transaction (every autocommit write).
#include <chrono>
#include <cstdint>
#include <string_view>

#include "ports/metrics_sink.h"

namespace authd::mysql {

struct ConflictRetryPolicy {
  // Attempts in all, the first included. A throttle counter bumped from
  // two nodes at once still lost after 10 (NOTES-deps.md); with one writer
  // node a conflict is rare and one retry wins. Six keep the worst case
  // (delays included) near a quarter of a second.
  int max_attempts = 6;
  std::chrono::microseconds first_window{2000};
  std::chrono::microseconds max_window{64000};
};

// The pause before attempt `next_attempt` (2 = the first retry): uniform in
// [0, window), the window doubling from first_window up to max_window
// ("full jitter"). `random` is any 32-bit random value.
std::chrono::microseconds conflict_retry_delay(int next_attempt, std::uint32_t random,
                                               const ConflictRetryPolicy& policy);

// One unit's retries. After each failed attempt, `again()` says whether to
// run it once more (and has slept the jittered pause), or that the budget
// is spent (the caller then answers 503: the unit was not applied).
class ConflictRetry {
 public:
  ConflictRetry(std::string_view what, MetricsSink* metrics,
                const ConflictRetryPolicy& policy = ConflictRetryPolicy{})
      : what_(what), metrics_(metrics), policy_(policy) {}

  // `code`: the error number that ended the attempt (logged).
  bool again(int code);
  int attempt() const noexcept { return attempt_; }
  int max_attempts() const noexcept { return policy_.max_attempts; }

 private:
  std::string_view what_;
  MetricsSink* metrics_;
  ConflictRetryPolicy policy_;
  int attempt_ = 1;
};

}  // namespace authd::mysql
