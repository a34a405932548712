#include "adapters/mysql/conflict_retry.h"

#include <sodium.h>
#include <time.h>

#include <algorithm>
#include <cerrno>

#include "log/log.h"

namespace authd::mysql {

std::chrono::microseconds conflict_retry_delay(int next_attempt, std::uint32_t random,
                                               const ConflictRetryPolicy& policy) {
  if (next_attempt < 2) return std::chrono::microseconds{0};
  std::int64_t window = policy.first_window.count();
  for (int i = 2; i < next_attempt && window < policy.max_window.count(); ++i)
    window *= 2;
  window =
      std::clamp<std::int64_t>(window, 1, std::max<std::int64_t>(1, policy.max_window.count()));
  return std::chrono::microseconds{static_cast<std::int64_t>(random % window)};
}

bool ConflictRetry::again(int code) {
  if (metrics_ != nullptr) metrics_->database_failure(DatabaseFailure::conflict);
  if (attempt_ >= policy_.max_attempts) {
    log::warn("db_conflict",
              {{"unit", what_}, {"errno", code}, {"attempt", attempt_}, {"action", "give_up"}});
    return false;
  }
  ++attempt_;
  const auto pause = conflict_retry_delay(attempt_, randombytes_random(), policy_);
  log::info("db_conflict", {{"unit", what_},
                            {"errno", code},
                            {"attempt", attempt_ - 1},
                            {"action", "retry"},
                            {"pause_us", static_cast<std::int64_t>(pause.count())}});
  timespec left{static_cast<time_t>(pause.count() / 1'000'000),
                static_cast<long>((pause.count() % 1'000'000) * 1000)};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  return true;
}

}  // namespace authd::mysql
