#include "auth/throttle_policy.h"

#include <gtest/gtest.h>

namespace authd {
namespace {

constexpr UnixSeconds kT0 = 1'800'000'000;

TEST(ThrottlePolicy, FiveFreeFailuresThenThirtySecondsDoubling) {
  ThrottleLimits limits;
  ThrottleCounter pair;
  for (int n = 1; n <= 5; ++n) {
    pair = after_pair_failure(pair, kT0, limits);
    EXPECT_EQ(throttle_wait(pair, kT0), 0) << "failure " << n << " is free";
  }
  pair = after_pair_failure(pair, kT0, limits);  // 6th
  EXPECT_EQ(throttle_wait(pair, kT0), 30) << "so a 7th quick attempt is refused";
  pair = after_pair_failure(pair, kT0 + 30, limits);  // 7th
  EXPECT_EQ(throttle_wait(pair, kT0 + 30), 60);
  pair = after_pair_failure(pair, kT0 + 90, limits);  // 8th
  EXPECT_EQ(throttle_wait(pair, kT0 + 90), 120);
}

TEST(ThrottlePolicy, DelayIsCappedAtTheMaximum) {
  ThrottleLimits limits;
  ThrottleCounter pair;
  UnixSeconds t = kT0;
  for (int n = 1; n <= 40; ++n) {
    pair = after_pair_failure(pair, t, limits);
    t += 10;
  }
  EXPECT_EQ(pair.blocked_until - (t - 10), 900);
}

TEST(ThrottlePolicy, FailuresAreForgottenAfterAnHourWithoutOne) {
  ThrottleLimits limits;
  ThrottleCounter pair;
  for (int n = 1; n <= 5; ++n)
    pair = after_pair_failure(pair, kT0, limits);
  pair = after_pair_failure(pair, kT0 + 3600, limits);
  EXPECT_EQ(pair.failures, 1u);
  EXPECT_EQ(throttle_wait(pair, kT0 + 3600), 0);
}

TEST(ThrottlePolicy, OneAddressNeverLocksTheEmail) {
  ThrottleLimits limits;
  ThrottleCounter pair, email;
  UnixSeconds t = kT0;
  for (int n = 1; n <= 200; ++n) {
    pair = after_pair_failure(pair, t, limits);
    email = after_email_failure(email, pair.failures, t, limits);
    t += 1000;  // waits out its own delay each time
    if (t - kT0 > 3000) break;
  }
  EXPECT_LE(email.failures, 5u);
  EXPECT_EQ(throttle_wait(email, t), 0) << "the owner on another address is never refused";
}

TEST(ThrottlePolicy, ManyAddressesSlowTheEmailFromTheTwentiethFailure) {
  ThrottleLimits limits;
  ThrottleCounter email;
  // Four addresses with five failures each: 20 counted failures.
  for (int address = 0; address < 4; ++address) {
    for (unsigned n = 1; n <= 5; ++n) {
      email = after_email_failure(email, n, kT0, limits);
      if (address < 3 || n < 5) {
        EXPECT_EQ(throttle_wait(email, kT0), 0);
      }
    }
  }
  EXPECT_EQ(email.failures, 20u);
  EXPECT_EQ(throttle_wait(email, kT0), 30);
  email = after_email_failure(email, 1, kT0 + 30, limits);
  EXPECT_EQ(throttle_wait(email, kT0 + 30), 60);
  // An address past its five does not count further.
  auto unchanged = after_email_failure(email, 6, kT0 + 31, limits);
  EXPECT_EQ(unchanged.failures, email.failures);
}

TEST(ThrottlePolicy, RetryAfterIsAtLeastOneSecond) {
  EXPECT_EQ(retry_after_seconds(0), 1);
  EXPECT_EQ(retry_after_seconds(30), 30);
}

TEST(ThrottlePolicy, SettingsChangeTheNumbers) {
  ThrottleLimits limits;
  limits.free_failures = 2;
  limits.delay_base_s = 5;
  limits.delay_max_s = 12;
  ThrottleCounter pair;
  pair = after_pair_failure(pair, kT0, limits);
  pair = after_pair_failure(pair, kT0, limits);
  EXPECT_EQ(throttle_wait(pair, kT0), 0);
  pair = after_pair_failure(pair, kT0, limits);
  EXPECT_EQ(throttle_wait(pair, kT0), 5);
  pair = after_pair_failure(pair, kT0, limits);
  EXPECT_EQ(throttle_wait(pair, kT0), 10);
  pair = after_pair_failure(pair, kT0, limits);
  EXPECT_EQ(throttle_wait(pair, kT0), 12);
}

TEST(ThrottlePolicy, AReservationGivenBackUntouchedRestoresTheCounterExactly) {
  ThrottleLimits limits;
  ThrottleCounter before{5, 1'000, 0};
  ThrottleCounter reserved = after_pair_failure(before, 1'010, limits);  // the 6th: blocks
  ASSERT_EQ(reserved.blocked_until, 1'040);
  const ThrottleCounter back = without_reservation(reserved, before, reserved);
  EXPECT_EQ(back.failures, 5u);
  EXPECT_EQ(back.last_failure_at, 1'000);
  EXPECT_EQ(back.blocked_until, 0) << "the block the reservation set is gone too";
}

TEST(ThrottlePolicy, AReservationGivenBackAfterOthersCountedRemovesOnlyItself) {
  ThrottleLimits limits;
  ThrottleCounter before{2, 1'000, 0};
  ThrottleCounter reserved = after_pair_failure(before, 1'010, limits);
  ThrottleCounter current = after_pair_failure(reserved, 1'011, limits);  // another worker's
  const ThrottleCounter back = without_reservation(current, before, reserved);
  EXPECT_EQ(back.failures, 3u);
  EXPECT_EQ(back.last_failure_at, 1'011);
  // Cleared meanwhile by a success: nothing to give back.
  const ThrottleCounter cleared{};
  EXPECT_EQ(without_reservation(cleared, before, reserved).failures, 0u);
  // An email counter the reservation did not move stays as it is.
  const ThrottleCounter email{7, 900, 0};
  EXPECT_EQ(without_reservation(ThrottleCounter{8, 950, 0}, email, email).failures, 8u);
}

}  // namespace
}  // namespace authd
