// The pause before running a unit again after it lost to a concurrent one:
// jittered over a window that doubles up to a cap, and a budget of
// attempts.
#include "adapters/mysql/conflict_retry.h"

#include <gtest/gtest.h>

#include <chrono>

namespace authd::mysql {
namespace {

using std::chrono::microseconds;

TEST(ConflictRetryDelay, FullJitterOverAWindowThatDoublesUpToTheCap) {
  const ConflictRetryPolicy policy;  // 2 ms, doubling, at most 64 ms
  EXPECT_EQ(conflict_retry_delay(1, 12345, policy), microseconds(0)) << "the first run waits not";
  EXPECT_EQ(conflict_retry_delay(2, 0, policy), microseconds(0));
  EXPECT_EQ(conflict_retry_delay(2, 1999, policy), microseconds(1999));
  EXPECT_EQ(conflict_retry_delay(2, 2000, policy), microseconds(0)) << "below the window";
  EXPECT_EQ(conflict_retry_delay(3, 3999, policy), microseconds(3999));
  EXPECT_EQ(conflict_retry_delay(4, 7999, policy), microseconds(7999));
  for (int attempt = 2; attempt < 40; ++attempt) {
    EXPECT_LT(conflict_retry_delay(attempt, 0xffffffffu, policy), policy.max_window) << attempt;
  }
  EXPECT_EQ(conflict_retry_delay(30, 63999, policy), microseconds(63999));
}

TEST(ConflictRetry, GivesUpAfterTheBudgetOfAttempts) {
  ConflictRetryPolicy policy;
  policy.max_attempts = 3;
  policy.first_window = microseconds(1);
  policy.max_window = microseconds(1);
  ConflictRetry retry("test", nullptr, policy);
  EXPECT_EQ(retry.attempt(), 1);
  EXPECT_TRUE(retry.again(1213));
  EXPECT_TRUE(retry.again(1213));
  EXPECT_EQ(retry.attempt(), 3);
  EXPECT_FALSE(retry.again(1213));
}

}  // namespace
}  // namespace authd::mysql
