// Per-account throttling around the password checks (API.md "Throttling").
#include "auth/auth_service.h"
#include "log/log.h"

namespace authd {

std::optional<AuthError> AuthService::throttled(std::string_view email, const ClientInfo& client,
                                                std::string_view action,
                                                ThrottleStore::Counters* seen) {
  const UnixSeconds now = deps_.clock.now();
  *seen = deps_.throttle.read(email, client.ip);
  UnixSeconds wait = std::max(throttle_wait(seen->pair, now), throttle_wait(seen->email, now));
  if (wait <= 0) return std::nullopt;
  log::audit(action, {{"outcome", "throttled"}, {"ip", client.ip}, {"retry_after", wait}});
  AuthError e = fail(AuthErrc::too_many_attempts, "Too many failed attempts. Try again later.");
  e.retry_after_s = retry_after_seconds(wait);
  return e;
}

void AuthService::count_failure(std::string_view email, const ClientInfo& client) {
  const UnixSeconds now = deps_.clock.now();
  const ThrottleLimits& limits = policy_.throttle;
  deps_.throttle.record_failure(email, client.ip, [&](const ThrottleStore::Counters& before) {
    ThrottleStore::Counters after;
    after.pair = after_pair_failure(before.pair, now, limits);
    after.email = after_email_failure(before.email, after.pair.failures, now, limits);
    return after;
  });
}

void AuthService::clear_failures(std::string_view email, const ClientInfo& client,
                                 const ThrottleStore::Counters& seen) {
  // Most logins have nothing to clear: no write then.
  if (seen.pair.failures == 0 && seen.email.failures == 0) return;
  deps_.throttle.clear(email, client.ip);
}

}  // namespace authd
