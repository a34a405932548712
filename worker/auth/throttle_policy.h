#pragma once
// Per-account throttling of password guesses (API.md "Throttling"), as pure
// arithmetic over counters, so it is unit-tested with an injectable clock and
// the store only keeps the numbers.
//
// Per (email, client address): failures 1..free_failures cost nothing;
// failure n > free_failures refuses the pair for base·2^(n−free−1) seconds
// from that failure, capped at max. Per email across addresses: the same from
// failure `email_failures`, where each address counts at most free_failures
// of its failures, so one address alone can never lock the owner out
// (ASVS 5.0 6.1.1 / 6.3.1: slows, never a lasting lockout). Failures are
// forgotten after an hour without one; a success clears both counters.
#include <cstdint>
#include <optional>

#include "ports/clock.h"
#include "ports/records.h"

namespace authd {

struct ThrottleLimits {
  unsigned free_failures = 5;     // LOGIN_FREE_FAILURES
  UnixSeconds delay_base_s = 30;  // LOGIN_DELAY_BASE
  UnixSeconds delay_max_s = 900;  // LOGIN_DELAY_MAX
  unsigned email_failures = 20;   // LOGIN_EMAIL_FAILURES
  UnixSeconds forget_after_s = 3600;
};

// How long an attempt must still wait (0: go ahead).
UnixSeconds throttle_wait(const ThrottleCounter& counter, UnixSeconds now);

// The pair counter after one more failure.
ThrottleCounter after_pair_failure(ThrottleCounter pair, UnixSeconds now,
                                   const ThrottleLimits& limits);

// The email counter after one more failure from an address whose own count
// (after this failure) is `pair_failures`: only an address's first
// free_failures failures count towards the email.
ThrottleCounter after_email_failure(ThrottleCounter email, unsigned pair_failures, UnixSeconds now,
                                    const ThrottleLimits& limits);

// A counter with one reserved failure given back: `before` and `reserved`
// are the counter before and after the reservation, `current` what it is
// now. Unchanged since: exactly as before. Changed by others meanwhile (more
// failures, or cleared by a success): one failure fewer, if any is left.
ThrottleCounter without_reservation(const ThrottleCounter& current, const ThrottleCounter& before,
                                    const ThrottleCounter& reserved);

// Retry-After: whole seconds, rounded up, at least 1.
inline long long retry_after_seconds(UnixSeconds wait) {
  return wait < 1 ? 1 : wait;
}

}  // namespace authd
