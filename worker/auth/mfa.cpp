// Use cases of the second factor: enrolment (setup, confirm), the second
// step of a login, new recovery codes, turning it off.
#include <stdexcept>

#include "auth/auth_service.h"
#include "auth/commit_outcome.h"
#include "auth/ids.h"
#include "auth/recovery_codes.h"
#include "auth/refresh_token.h"
#include "auth/totp.h"
#include "log/log.h"

namespace authd {
namespace {

AuthError wrong_code() {
  return fail(AuthErrc::invalid_mfa_code, "The code is wrong, already used or expired.");
}
AuthError wrong_password() {
  return fail(AuthErrc::invalid_credentials, "The password is wrong.");
}

}  // namespace

Outcome<User> AuthService::account_of(const Authenticated& who) {
  auto user = deps_.users.find_by_id(who.session.user_id);
  if (!user || user->disabled_at) {
    return fail(AuthErrc::invalid_token, "The session of this token has ended.");
  }
  return std::move(*user);
}

bool AuthService::totp_matches(const User& user, std::string_view code, UnixSeconds now) {
  if (!policy_.mfa_key) return false;
  const MfaState state = deps_.mfa.read(user.id);
  auto secret = unseal(*policy_.mfa_key, state.secret_sealed, user.id.as_bytes());
  if (!state.enabled || !secret) return false;
  auto step = totp::matching_step(*secret, code, now, state.last_step);
  // The step is taken with a compare-and-swap: of two requests carrying the
  // same code, on any workers, one wins.
  return step && deps_.mfa.accept_step(user.id, *step);
}

bool AuthService::recovery_code_matches(const User& user, std::string_view typed, UnixSeconds now) {
  const std::string code = recovery_codes::canonical(typed);
  if (code.empty()) return false;
  for (const RecoveryCode& stored : deps_.mfa.unused_recovery_codes(user.id)) {
    if (deps_.hasher.verify(stored.hash, code)) {
      return deps_.mfa.spend_recovery_code(user.id, stored.slot, now);
    }
  }
  return false;
}

bool AuthService::second_factor_matches(const User& user, std::string_view code, UnixSeconds now,
                                        std::string* kind) {
  if (totp::looks_like_code(code)) {
    *kind = "totp";
    return totp_matches(user, code, now);
  }
  *kind = "recovery_code";
  return recovery_code_matches(user, code, now);
}

std::optional<AuthError> AuthService::second_factor_refusal(const User& user,
                                                            std::optional<std::string_view> code,
                                                            ThrottleAttempt& attempt,
                                                            std::string_view action,
                                                            const ClientInfo& client) {
  if (!user.mfa_enabled) return std::nullopt;
  if (!code) {
    AuthError e = fail(AuthErrc::mfa_required, "Add a code from your authenticator app.");
    e.methods = {"totp", "recovery_code"};
    return e;
  }
  std::string kind;
  if (second_factor_matches(user, *code, deps_.clock.now(), &kind)) return std::nullopt;
  attempt.failed();
  log::audit(action, {{"outcome", "wrong_code"},
                      {"method", kind},
                      {"user_id", user.id.to_string()},
                      {"ip", client.ip}});
  return wrong_code();
}

std::vector<std::string> AuthService::new_recovery_codes(const User& user) {
  std::vector<std::string> codes = recovery_codes::generate(deps_.random);
  std::vector<std::string> hashes;
  for (const auto& code : codes)
    hashes.push_back(deps_.hasher.hash(recovery_codes::canonical(code)));
  deps_.mfa.replace_recovery_codes(user.id, hashes);
  return codes;
}

AuthError AuthService::mfa_challenge(const User& user, const ClientInfo& client) {
  const UnixSeconds now = deps_.clock.now();
  const std::string token = new_random_token(deps_.random, 32);
  MfaChallenge challenge;
  challenge.token_hash = refresh_token_digest(token);
  challenge.user_id = user.id;
  challenge.ip = client.ip;
  challenge.created_at = now;
  challenge.expires_at = now + policy_.mfa_challenge_ttl_s;
  deps_.mfa.insert_challenge(challenge);
  AuthError e = fail(AuthErrc::mfa_required, "Enter a code from your authenticator app.");
  e.mfa_token = token;
  e.methods = {"totp", "recovery_code"};
  // A passkey answers the second step too (API.md: listed only where an
  // mfa_token comes with it).
  if (deps_.passkeys.count(user.id) > 0) e.methods.push_back("passkey");
  return e;
}

Outcome<TotpEnrolment> AuthService::mfa_setup(const Authenticated& who, std::string_view password,
                                              const ClientInfo& client) {
  auto account = account_of(who);
  if (!account) return account.error();
  User& user = account.value();
  // A right password here clears nothing (it is not a login): leaving
  // without failed() gives the attempt back.
  ThrottleAttempt attempt;
  if (auto refused = admit(user.email, client, "mfa_setup", &attempt)) return *refused;
  // The password again: a stolen access token alone cannot add a factor
  // and lock the owner out.
  if (!password_matches(&user, password)) {
    attempt.failed();
    log::audit(
        "mfa_setup",
        {{"outcome", "wrong_password"}, {"user_id", user.id.to_string()}, {"ip", client.ip}});
    return wrong_password();
  }
  if (user.mfa_enabled) {
    return fail(AuthErrc::mfa_already_enabled, "The second factor is already on.");
  }
  if (!policy_.mfa_key) {
    throw std::runtime_error("MFA_ENCRYPTION_KEY is not configured: cannot seal a TOTP secret");
  }
  const std::string secret = deps_.random.bytes(totp::kSecretBytes);
  deps_.mfa.set_pending(user.id, seal(*policy_.mfa_key, secret, deps_.random, user.id.as_bytes()));
  log::audit("mfa_setup",
             {{"outcome", "started"}, {"user_id", user.id.to_string()}, {"ip", client.ip}});
  return TotpEnrolment{totp::base32(secret),
                       totp::otpauth_uri(policy_.mfa_issuer, user.email, secret)};
}

Outcome<std::vector<std::string>> AuthService::mfa_confirm(const Authenticated& who,
                                                           std::string_view code,
                                                           const ClientInfo& client) {
  auto account = account_of(who);
  if (!account) return account.error();
  User& user = account.value();
  ThrottleAttempt attempt;
  if (auto refused = admit(user.email, client, "mfa_confirm", &attempt)) return *refused;
  if (user.mfa_enabled) {
    return fail(AuthErrc::mfa_already_enabled, "The second factor is already on.");
  }
  const UnixSeconds now = deps_.clock.now();
  const MfaState state = deps_.mfa.read(user.id);
  std::optional<std::string> secret;
  if (policy_.mfa_key && !state.pending_sealed.empty()) {
    secret = unseal(*policy_.mfa_key, state.pending_sealed, user.id.as_bytes());
  }
  std::optional<std::int64_t> step;
  if (secret) step = totp::matching_step(*secret, code, now, std::nullopt);
  if (!step) {
    if (secret) attempt.failed();  // with nothing pending there was no code to judge
    log::audit("mfa_confirm", {{"outcome", secret ? "wrong_code" : "nothing_pending"},
                               {"user_id", user.id.to_string()},
                               {"ip", client.ip}});
    AuthError e = wrong_code();
    e.detail =
        secret ? "The code is wrong or expired." : "No enrolment is pending: start with setup.";
    return e;
  }
  std::vector<std::string> codes;
  bool enabled = false;
  int ended = 0;
  // On, codes made, every other session ended: one commit. The code itself
  // is the re-authentication, so REAUTH_MAX_AGE does not apply.
  write_then_settle(
      "mfa_confirm",
      [&] {
        deps_.transactions.in_transaction([&] {
          enabled = deps_.mfa.enable(user.id, state.pending_sealed, *step, now);
          if (!enabled) return;
          codes = new_recovery_codes(user);
          ended = deps_.sessions.revoke_all_for_user(user.id, now, who.session.id);
        });
      },
      // On with the secret this enrolment confirmed: that commit landed.
      [&] {
        const MfaState stored = deps_.mfa.read(user.id);
        return enabled = stored.enabled && stored.secret_sealed == state.pending_sealed;
      });
  if (!enabled) return wrong_code();  // a newer setup replaced this one meanwhile
  attempt.succeeded();
  log::audit("mfa_enabled", {{"outcome", "ok"},
                             {"user_id", user.id.to_string()},
                             {"sessions_ended", ended},
                             {"recovery_codes", static_cast<std::int64_t>(codes.size())},
                             {"ip", client.ip}});
  return codes;
}

Outcome<AuthService::SecondStep> AuthService::second_step(std::string_view mfa_token,
                                                          const ClientInfo& client,
                                                          ThrottleAttempt* attempt) {
  const UnixSeconds now = deps_.clock.now();
  const auto refused = fail(AuthErrc::invalid_token, "The mfa_token is invalid, spent or expired.");
  std::string token_hash = refresh_token_digest(mfa_token);
  // The token first, counting for nothing: unknown, spent, expired or from
  // another client address.
  auto challenge = deps_.mfa.find_challenge(token_hash);
  if (!challenge || challenge->spent_at || now >= challenge->expires_at ||
      challenge->ip != client.ip) {
    return refused;
  }
  auto user = deps_.users.find_by_id(challenge->user_id);
  if (!user || !user->mfa_enabled) return refused;
  if (user->disabled_at) return fail(AuthErrc::account_disabled, "This account has been disabled.");
  // An mfa_token issued before REQUIRE_VERIFIED_EMAIL was turned on opens no
  // session for an unverified address either.
  if (auto unverified = unverified_email_refusal(*user, client, "mfa_verify")) return *unverified;
  SecondStep step{std::move(*user), std::move(token_hash)};
  if (attempt != nullptr) {
    if (auto denied = admit(step.user.email, client, "mfa_verify", attempt)) {
      metrics().login(LoginOutcome::throttled);
      return *denied;
    }
  }
  return step;
}

Outcome<TokenGrant> AuthService::mfa_verify(std::string_view mfa_token,
                                            std::optional<std::string_view> code,
                                            std::optional<std::string_view> recovery_code,
                                            const ClientInfo& client) {
  const UnixSeconds now = deps_.clock.now();
  ThrottleAttempt attempt;
  auto step = second_step(mfa_token, client, &attempt);
  if (!step) return step.error();
  const User* user = &step.value().user;

  std::string kind = recovery_code ? "recovery_code" : "totp";
  const bool ok = recovery_code ? recovery_code_matches(*user, *recovery_code, now)
                                : totp_matches(*user, code.value_or(""), now);
  if (!ok) {
    // A wrong code counts as a failed login and leaves the mfa_token usable.
    attempt.failed();
    metrics().login(LoginOutcome::failed);
    log::audit("mfa_verify", {{"outcome", "wrong_code"},
                              {"method", kind},
                              {"user_id", user->id.to_string()},
                              {"ip", client.ip}});
    return wrong_code();
  }
  auto grant = complete_second_step(step.value(), "pwd,otp", kind, client, &attempt);
  if (grant && kind == "recovery_code") {
    log::audit(
        "mfa_recovery_code_used",
        {{"user_id", user->id.to_string()},
         {"remaining", static_cast<std::int64_t>(deps_.mfa.unused_recovery_codes(user->id).size())},
         {"ip", client.ip}});
  }
  return grant;
}

Outcome<TokenGrant> AuthService::complete_second_step(const SecondStep& step, std::string amr,
                                                      std::string_view method,
                                                      const ClientInfo& client,
                                                      ThrottleAttempt* attempt) {
  const UnixSeconds now = deps_.clock.now();
  const auto refused = fail(AuthErrc::invalid_token, "The mfa_token is invalid, spent or expired.");
  User user = step.user;
  // A concurrent success spent the mfa_token first.
  if (!deps_.mfa.spend_challenge(step.token_hash, now)) return refused;
  if (attempt != nullptr) attempt->succeeded();
  std::string refresh_token;
  Session session = new_session_with(user, client, now, std::move(amr), &refresh_token);
  bool opened = false;
  write_then_settle(
      "mfa_verify",
      [&] {
        deps_.transactions.in_transaction([&] {
          // Under the account's row lock: an account closed meanwhile gets
          // no session (the login comes after the closing).
          opened = deps_.users.record_login(user.id, now);
          if (opened) open_session(session, now);
        });
      },
      [&] { return !opened || deps_.sessions.find(session.id).has_value(); });
  if (!opened) return refused;
  user.last_login_at = now;
  metrics().login(LoginOutcome::ok);
  log::audit("login", {{"outcome", "ok"},
                       {"method", method},
                       {"user_id", user.id.to_string()},
                       {"session_id", session.id.to_string()},
                       {"ip", client.ip}});
  return grant_for(user, session, std::move(refresh_token), now);
}

Outcome<std::vector<std::string>> AuthService::mfa_new_recovery_codes(const Authenticated& who,
                                                                      std::string_view password,
                                                                      const ClientInfo& client) {
  auto account = account_of(who);
  if (!account) return account.error();
  User& user = account.value();
  // As at setup, a right password clears nothing: the attempt is given back.
  ThrottleAttempt attempt;
  if (auto refused = admit(user.email, client, "mfa_recovery_codes", &attempt)) return *refused;
  if (!password_matches(&user, password)) {
    attempt.failed();
    log::audit(
        "mfa_recovery_codes",
        {{"outcome", "wrong_password"}, {"user_id", user.id.to_string()}, {"ip", client.ip}});
    return wrong_password();
  }
  if (!user.mfa_enabled) return fail(AuthErrc::mfa_not_enabled, "The second factor is not on.");
  std::vector<std::string> codes;
  deps_.transactions.in_transaction([&] { codes = new_recovery_codes(user); });
  log::audit("mfa_recovery_codes",
             {{"outcome", "replaced"}, {"user_id", user.id.to_string()}, {"ip", client.ip}});
  return codes;
}

Outcome<bool> AuthService::mfa_disable(const Authenticated& who, std::string_view password,
                                       std::string_view code, const ClientInfo& client) {
  auto account = account_of(who);
  if (!account) return account.error();
  User& user = account.value();
  ThrottleAttempt attempt;
  if (auto refused = admit(user.email, client, "mfa_disable", &attempt)) return *refused;
  // The password before the code: a request refused for its password
  // spends no code.
  if (!password_matches(&user, password)) {
    attempt.failed();
    log::audit(
        "mfa_disable",
        {{"outcome", "wrong_password"}, {"user_id", user.id.to_string()}, {"ip", client.ip}});
    return wrong_password();
  }
  if (!user.mfa_enabled) return fail(AuthErrc::mfa_not_enabled, "The second factor is not on.");
  const UnixSeconds now = deps_.clock.now();
  std::string kind;
  if (!second_factor_matches(user, code, now, &kind)) {
    attempt.failed();
    log::audit("mfa_disable", {{"outcome", "wrong_code"},
                               {"method", kind},
                               {"user_id", user.id.to_string()},
                               {"ip", client.ip}});
    return wrong_code();
  }
  int ended = 0;
  write_then_settle(
      "mfa_disable",
      [&] {
        deps_.transactions.in_transaction([&] {
          deps_.mfa.disable(user.id, now);
          ended = deps_.sessions.revoke_all_for_user(user.id, now, who.session.id);
        });
      },
      [&] { return !deps_.mfa.read(user.id).enabled; });
  attempt.succeeded();
  log::audit("mfa_disabled", {{"outcome", "ok"},
                              {"method", kind},
                              {"user_id", user.id.to_string()},
                              {"sessions_ended", ended},
                              {"ip", client.ip}});
  return true;
}

}  // namespace authd
