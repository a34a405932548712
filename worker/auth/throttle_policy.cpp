#include "auth/throttle_policy.h"

#include <algorithm>

namespace authd {
namespace {

// base·2^(n−threshold), capped; n > threshold.
UnixSeconds delay_for(unsigned n, unsigned threshold, const ThrottleLimits& limits) {
  unsigned exponent = n - threshold - 1;
  if (exponent >= 32) return limits.delay_max_s;
  UnixSeconds delay = limits.delay_base_s << exponent;
  return std::min(delay, limits.delay_max_s);
}

ThrottleCounter with_failure(ThrottleCounter c, UnixSeconds now, const ThrottleLimits& limits) {
  if (c.failures > 0 && now - c.last_failure_at >= limits.forget_after_s) c = ThrottleCounter{};
  ++c.failures;
  c.last_failure_at = now;
  return c;
}

}  // namespace

UnixSeconds throttle_wait(const ThrottleCounter& counter, UnixSeconds now) {
  return counter.blocked_until > now ? counter.blocked_until - now : 0;
}

ThrottleCounter after_pair_failure(ThrottleCounter pair, UnixSeconds now,
                                   const ThrottleLimits& limits) {
  pair = with_failure(pair, now, limits);
  if (pair.failures > limits.free_failures) {
    pair.blocked_until = now + delay_for(pair.failures, limits.free_failures, limits);
  }
  return pair;
}

ThrottleCounter after_email_failure(ThrottleCounter email, unsigned pair_failures, UnixSeconds now,
                                    const ThrottleLimits& limits) {
  if (pair_failures > limits.free_failures) {
    // This address has already given its share; only forget old failures.
    if (email.failures > 0 && now - email.last_failure_at >= limits.forget_after_s)
      email = ThrottleCounter{};
    return email;
  }
  email = with_failure(email, now, limits);
  // "The same from the 20th failure": failure n >= email_failures blocks
  // for base·2^(n − email_failures).
  if (email.failures >= limits.email_failures) {
    email.blocked_until = now + delay_for(email.failures, limits.email_failures - 1, limits);
  }
  return email;
}

ThrottleCounter without_reservation(const ThrottleCounter& current, const ThrottleCounter& before,
                                    const ThrottleCounter& reserved) {
  const bool untouched = current.failures == reserved.failures &&
                         current.last_failure_at == reserved.last_failure_at &&
                         current.blocked_until == reserved.blocked_until;
  if (untouched) return before;
  ThrottleCounter out = current;
  if (reserved.failures > before.failures && out.failures > 0) --out.failures;
  return out;
}

}  // namespace authd
