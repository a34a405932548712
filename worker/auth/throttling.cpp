// Per-account throttling around the password checks (API.md "Throttling").
#include "auth/auth_service.h"
#include "log/log.h"

namespace authd {
namespace {

UnixSeconds resting_for(const ThrottleStore::Counters& c, UnixSeconds now) {
  return std::max(throttle_wait(c.pair, now), throttle_wait(c.email, now));
}

ThrottleStore::Counters with_one_failure(const ThrottleStore::Counters& before, UnixSeconds now,
                                         const ThrottleLimits& limits) {
  ThrottleStore::Counters after;
  after.pair = after_pair_failure(before.pair, now, limits);
  after.email = after_email_failure(before.email, after.pair.failures, now, limits);
  return after;
}

}  // namespace

AuthError AuthService::throttled_error(std::string_view action, const ClientInfo& client,
                                       UnixSeconds wait) {
  log::audit(action, {{"outcome", "throttled"}, {"ip", client.ip}, {"retry_after", wait}});
  AuthError e = fail(AuthErrc::too_many_attempts, "Too many failed attempts. Try again later.");
  e.retry_after_s = retry_after_seconds(wait);
  return e;
}

std::optional<AuthError> AuthService::throttled(std::string_view email, const ClientInfo& client,
                                                std::string_view action,
                                                ThrottleStore::Counters* seen) {
  const UnixSeconds now = deps_.clock.now();
  *seen = deps_.throttle.read(email, client.ip);
  const UnixSeconds wait = resting_for(*seen, now);
  if (wait <= 0) return std::nullopt;
  return throttled_error(action, client, wait);
}

void AuthService::count_failure(std::string_view email, const ClientInfo& client) {
  const UnixSeconds now = deps_.clock.now();
  deps_.throttle.record_failure(email, client.ip, [&](const ThrottleStore::Counters& before) {
    return with_one_failure(before, now, policy_.throttle);
  });
}

void AuthService::clear_failures(std::string_view email, const ClientInfo& client,
                                 const ThrottleStore::Counters& seen) {
  // Most logins have nothing to clear: no write then.
  if (seen.pair.failures == 0 && seen.email.failures == 0) return;
  deps_.throttle.clear(email, client.ip);
}

std::optional<AuthError> AuthService::admit(std::string_view email, const ClientInfo& client,
                                            std::string_view action, ThrottleAttempt* attempt) {
  const UnixSeconds now = deps_.clock.now();
  attempt->store_ = &deps_.throttle;
  attempt->email_ = std::string(email);
  attempt->ip_ = client.ip;
  // A plain read first: a resting pair is refused without a write (the
  // answer to a guessing client must stay cheap).
  attempt->before_ = deps_.throttle.read(email, client.ip);
  if (const UnixSeconds wait = resting_for(attempt->before_, now); wait > 0) {
    return throttled_error(action, client, wait);
  }
  const auto& seen = attempt->before_;
  if (seen.pair.failures == 0 && seen.email.failures == 0) return std::nullopt;

  // Failures already: judge again and count this attempt under the rows'
  // lock, so a concurrent attempt on another worker sees it.
  UnixSeconds wait = 0;
  deps_.throttle.record_failure(email, client.ip, [&](const ThrottleStore::Counters& locked) {
    wait = resting_for(locked, now);
    if (wait > 0) return locked;  // refused meanwhile: nothing counted
    attempt->before_ = locked;
    attempt->after_ = with_one_failure(locked, now, policy_.throttle);
    return attempt->after_;
  });
  if (wait > 0) return throttled_error(action, client, wait);
  attempt->reserved_ = true;
  return std::nullopt;
}

void AuthService::attempt_failed(ThrottleAttempt& attempt) {
  attempt.settled_ = true;
  if (attempt.reserved_) return;  // counted already
  count_failure(attempt.email_, ClientInfo{attempt.ip_, {}});
}

void AuthService::attempt_succeeded(ThrottleAttempt& attempt) {
  attempt.settled_ = true;
  const auto& seen = attempt.before_;
  if (!attempt.reserved_ && seen.pair.failures == 0 && seen.email.failures == 0) return;
  deps_.throttle.clear(attempt.email_, attempt.ip_);
}

ThrottleAttempt::~ThrottleAttempt() {
  if (!reserved_ || settled_ || store_ == nullptr) return;
  // Neither a failure nor a success: the reserved failure goes back.
  try {
    store_->record_failure(email_, ip_, [this](const ThrottleStore::Counters& current) {
      ThrottleStore::Counters out;
      out.pair = without_reservation(current.pair, before_.pair, after_.pair);
      out.email = without_reservation(current.email, before_.email, after_.email);
      return out;
    });
  } catch (const std::exception& e) {
    // The database went away: the attempt stays counted as a failure.
    log::warn("throttle_give_back_failed", {{"error", e.what()}});
  } catch (...) {
    log::warn("throttle_give_back_failed", {{"error", "unknown exception"}});
  }
}

}  // namespace authd
