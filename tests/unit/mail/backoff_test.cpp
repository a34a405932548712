#include "mail/backoff.h"

#include <gtest/gtest.h>

#include <climits>
#include <vector>

namespace authd::mail {
namespace {

TEST(RetryDelay, DoublesFromOneSecondAndStopsAtSixty) {
  std::vector<UnixSeconds> delays;
  for (unsigned failures = 0; failures <= 9; ++failures)
    delays.push_back(retry_delay_seconds(failures));
  EXPECT_EQ(delays, (std::vector<UnixSeconds>{0, 1, 2, 4, 8, 16, 32, 60, 60, 60}));
}

TEST(RetryDelay, NeverOverflowsOrPassesTheCap) {
  for (unsigned failures : {10u, 63u, 64u, 65u, 1000u, UINT_MAX}) {
    EXPECT_EQ(retry_delay_seconds(failures), kMaxRetryDelaySeconds) << failures;
  }
}

}  // namespace
}  // namespace authd::mail
