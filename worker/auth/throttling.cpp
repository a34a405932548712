// Per-account throttling around every check of a secret (API.md
// "Throttling"; auth/throttle_attempt.h says how a use case uses it).
#include "auth/auth_service.h"
#include "log/log.h"
#include "ports/store_errors.h"
#include "util/cidr.h"

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

std::optional<AuthError> AuthService::admit(std::string_view email, const ClientInfo& client,
                                            std::string_view action, ThrottleAttempt* attempt) {
  const UnixSeconds now = deps_.clock.now();
  // An IPv6 client counts as its /64, as at nginx (util/cidr.h).
  const std::string network = throttle_network(client.ip);
  attempt->store_ = &deps_.throttle;
  attempt->email_ = std::string(email);
  attempt->ip_ = network;
  // A plain read first: a resting pair is refused without a write (the
  // answer to a guessing client must stay cheap). It decides nothing else:
  // what it saw may be stale by the time the lock is taken.
  if (const UnixSeconds wait = resting_for(deps_.throttle.read(email, network), now); wait > 0) {
    return throttled_error(action, client, wait);
  }
  // Judged again and counted under the rows' lock, always: the rows are
  // upserted first, so even the first attempts on a fresh email queue on
  // them and each sees the ones admitted before it.
  UnixSeconds wait = 0;
  deps_.throttle.record_failure(email, network, [&](const ThrottleStore::Counters& locked) {
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

void AuthService::count_passkey_failure(std::string_view email, const ClientInfo& client) {
  const UnixSeconds now = deps_.clock.now();
  deps_.throttle.record_failure(email, throttle_network(client.ip),
                                [&](const ThrottleStore::Counters& before) {
                                  return with_one_failure(before, now, policy_.throttle);
                                });
}

void AuthService::clear_after_passkey(std::string_view email, const ClientInfo& client) {
  const std::string network = throttle_network(client.ip);
  // Most logins have nothing to clear: no write then.
  const ThrottleStore::Counters seen = deps_.throttle.read(email, network);
  if (seen.pair.failures == 0 && seen.email.failures == 0) return;
  try {
    deps_.throttle.clear(email, network);
  } catch (const StoreCommitUnknown&) {
    log::warn("throttle_clear_unknown", {{"ip", client.ip}});
  }
}

void ThrottleAttempt::failed() {
  settled_ = true;  // counted already
}

void ThrottleAttempt::succeeded() {
  settled_ = true;
  if (store_ == nullptr || !reserved_) return;
  try {
    store_->clear(email_, ip_);
  } catch (const StoreCommitUnknown&) {
    // Counters left standing only make throttling stricter, never looser:
    // the success goes on (its own writes settle their outcome).
    log::warn("throttle_clear_unknown", {{"ip", ip_}});
  }
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
