// Use case: password login, which opens a session.
#include "auth/auth_service.h"
#include "auth/commit_outcome.h"
#include "auth/email.h"
#include "log/log.h"
#include "ports/store_errors.h"

namespace authd {

Outcome<TokenGrant> AuthService::login(std::string_view raw_email, std::string_view password,
                                       const ClientInfo& client) {
  const std::string email = email::normalise(raw_email);
  // Leaving this scope without a verdict (disabled, second factor due)
  // gives a reserved failure back.
  ThrottleAttempt attempt;
  if (auto refused = admit(email, client, "login", &attempt)) {
    metrics().login(LoginOutcome::throttled);
    return *refused;
  }

  auto user = deps_.users.find_by_email(email);
  if (!password_matches(user ? &*user : nullptr, password)) {
    attempt.failed();
    metrics().login(LoginOutcome::failed);
    log::audit("login", {{"outcome", "failed"},
                         log::Field::optional("user_id", user ? user->id.to_string() : ""),
                         {"ip", client.ip}});
    if (!user && policy_.reveal_unknown_email) {
      return fail(AuthErrc::unknown_email, "No account has this email address.");
    }
    return fail(AuthErrc::invalid_credentials, "The email or password is wrong.");
  }
  const std::string user_id = user->id.to_string();
  if (user->disabled_at) {
    metrics().login(LoginOutcome::disabled);
    log::audit("login", {{"outcome", "disabled"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::account_disabled, "This account has been disabled.");
  }
  if (auto refused = unverified_email_refusal(*user, client)) return *refused;
  const UnixSeconds now = deps_.clock.now();
  // The configured cost moved since this hash was made: upgrade it now that
  // we hold the password. A concurrent change wins (compare-and-swap).
  if (deps_.hasher.needs_rehash(user->password_hash)) {
    auto normalised = nfkc_password(password);
    std::string upgraded = deps_.hasher.hash(*normalised);
    try {
      if (deps_.users.replace_password_hash(user->id, user->password_hash, upgraded,
                                            std::nullopt)) {
        user->password_hash = upgraded;
        log::info("password_rehashed", {{"user_id", user_id}});
      }
    } catch (const StoreCommitUnknown&) {
      // Either hash verifies this password: whichever is stored, the login
      // stands (the next statement finds out whether the database is back).
      log::warn("password_rehash_unknown", {{"user_id", user_id}});
    }
  }

  // With a second factor on, the right password is not yet a login (nor a
  // success for throttling): the client completes it at /auth/mfa/verify.
  if (user->mfa_enabled) {
    metrics().login(LoginOutcome::mfa_required);
    log::audit("login", {{"outcome", "mfa_required"}, {"user_id", user_id}, {"ip", client.ip}});
    return mfa_challenge(*user, client);
  }

  std::string refresh_token;
  Session session = new_session(*user, client, now, &refresh_token);
  // The counters are cleared in the session's commit: one commit fewer on
  // every login, which now reserves its attempt (a rollback leaves the
  // attempt counted: stricter, never looser).
  bool opened = false;
  write_then_settle(
      "login",
      [&] {
        deps_.transactions.in_transaction([&] {
          // Under the account's row lock: an account closed meanwhile gets
          // no session (the login comes after the closing).
          opened = deps_.users.record_login(user->id, now);
          if (!opened) return;
          attempt.succeeded();
          open_session(session, now);
        });
      },
      [&] { return !opened || deps_.sessions.find(session.id).has_value(); });
  if (!opened) {
    // As a login to an address with no account: a failure.
    attempt.failed();
    metrics().login(LoginOutcome::failed);
    log::audit("login", {{"outcome", "account_gone"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::invalid_credentials, "The email or password is wrong.");
  }
  user->last_login_at = now;
  metrics().login(LoginOutcome::ok);
  log::audit("login", {{"outcome", "ok"},
                       {"user_id", user_id},
                       {"session_id", session.id.to_string()},
                       {"ip", client.ip}});
  return grant_for(*user, session, std::move(refresh_token), now);
}

}  // namespace authd
