// Use cases of passkeys (API.md "Passkeys (WebAuthn)"): registration with
// the password again, the account's list, removal, passwordless login, and
// a passkey as the second step of a password login. The WebAuthn checks
// themselves are the webauthn room's; here are the ones that need the
// database: the challenge (single use, 5 minutes, bound to its purpose and
// account), the credential's owner and user handle, the counter.
#include <algorithm>

#include "auth/auth_service.h"
#include "auth/commit_outcome.h"
#include "auth/ids.h"
#include "auth/link_issuer.h"
#include "log/log.h"
#include "util/base64url.h"

namespace authd {
namespace {

constexpr std::size_t kChallengeBytes = 32;
constexpr std::size_t kUserHandleBytes = 32;

AuthError invalid_passkey(webauthn::Check check) {
  return fail(AuthErrc::invalid_passkey, std::string(webauthn::check_detail(check)));
}

AuthError failed_passkey_login() {
  return fail(AuthErrc::invalid_credentials, "The passkey could not be verified.");
}

AuthError wrong_code() {
  return fail(AuthErrc::invalid_mfa_code, "The passkey could not be verified.");
}

// RFC 8176: proof of possession of a hardware-held key (a device-bound
// passkey) or of a software-held one (synced: BE set).
std::string_view key_amr(const Passkey& passkey) {
  return passkey.backup_eligible ? "swk" : "hwk";
}

std::string transports_text(const std::vector<std::string>& transports) {
  // As the browser listed them, bounded by the column (and nothing but
  // the token characters WebAuthn's AuthenticatorTransport values use).
  std::string out;
  for (const auto& t : transports) {
    if (t.empty() || t.size() > 32) continue;
    const bool plain = std::all_of(t.begin(), t.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!plain || out.size() + t.size() + 1 > 255) continue;
    if (!out.empty()) out += ',';
    out += t;
  }
  return out;
}

}  // namespace

unsigned AuthService::passkey_count(const Uuid& user_id) {
  return deps_.passkeys.count(user_id);
}

std::string AuthService::new_webauthn_challenge(ChallengePurpose purpose,
                                                std::optional<Uuid> user_id,
                                                std::string mfa_token_hash) {
  const UnixSeconds now = deps_.clock.now();
  std::string challenge = deps_.random.bytes(kChallengeBytes);
  WebAuthnChallenge row;
  row.challenge_hash = webauthn::sha256(challenge);
  row.purpose = purpose;
  row.user_id = user_id;
  row.mfa_token_hash = std::move(mfa_token_hash);
  row.created_at = now;
  row.expires_at = now + policy_.webauthn_challenge_ttl_s;
  deps_.passkeys.insert_challenge(row);
  return challenge;
}

std::optional<WebAuthnChallenge> AuthService::take_webauthn_challenge(
    std::string_view challenge_text, ChallengePurpose purpose) {
  auto challenge = base64url_decode(challenge_text);
  if (!challenge || challenge->size() != kChallengeBytes) return std::nullopt;
  // Taken whatever follows: any attempt that presents it spends it.
  auto row = deps_.passkeys.take_challenge(webauthn::sha256(*challenge), purpose);
  if (!row || deps_.clock.now() >= row->expires_at) return std::nullopt;
  return row;
}

std::optional<webauthn::Check> AuthService::record_passkey_use(
    const Passkey& passkey, const webauthn::VerifiedAssertion& verified, const ClientInfo& client) {
  const UnixSeconds now = deps_.clock.now();
  const std::uint32_t stored = passkey.sign_count;
  const std::uint32_t presented = verified.sign_count;
  const bool synced = passkey.backup_eligible;
  auto counter_audit = [&](std::string_view outcome) {
    log::audit("passkey_counter", {{"outcome", outcome},
                                   {"user_id", passkey.user_id.to_string()},
                                   {"passkey_id", passkey.id.to_string()},
                                   {"stored", static_cast<std::int64_t>(stored)},
                                   {"presented", static_cast<std::int64_t>(presented)},
                                   {"synced", synced},
                                   {"ip", client.ip}});
  };
  // Authenticators without a counter send 0 every time: nothing to compare.
  if (stored == 0 && presented == 0) {
    deps_.passkeys.record_use(passkey.id, std::nullopt, verified.backed_up, now);
    return std::nullopt;
  }
  if (presented > stored &&
      deps_.passkeys.record_use(passkey.id, presented, verified.backed_up, now)) {
    return std::nullopt;
  }
  // Did not grow, or another worker stored this value or a later one first.
  // A device-bound key that repeats a counter may have been cloned: refused.
  // A synced one legitimately lags behind its copies: logged, the stored
  // value left as it is.
  if (!synced) {
    counter_audit("refused");
    return webauthn::Check::counter;
  }
  counter_audit("not_grown_synced");
  deps_.passkeys.record_use(passkey.id, std::nullopt, verified.backed_up, now);
  return std::nullopt;
}

std::optional<webauthn::Check> AuthService::verify_passkey_use(const Passkey& passkey,
                                                               const webauthn::Assertion& response,
                                                               bool require_user_verification,
                                                               const ClientInfo& client) {
  const webauthn::StoredKey key{passkey.alg, passkey.public_key, passkey.backup_eligible};
  auto verified =
      webauthn::verify_assertion(response, policy_.relying_party, key, require_user_verification);
  if (const auto* check = std::get_if<webauthn::Check>(&verified)) return *check;
  return record_passkey_use(passkey, std::get<webauthn::VerifiedAssertion>(verified), client);
}

// --- registration ------------------------------------------------------------------

Outcome<PasskeyCreationOptions> AuthService::passkey_registration_options(
    const Authenticated& who, std::string_view password,
    std::optional<std::string_view> second_factor, const ClientInfo& client) {
  auto account = account_of(who);
  if (!account) return account.error();
  User& user = account.value();
  const std::string user_id = user.id.to_string();
  // Counted under the rows' lock before anything is judged
  // (auth/throttle_attempt.h); a wrong password or code keeps it counted.
  ThrottleAttempt attempt;
  if (auto refused = admit(user.email, client, "passkey_registration_options", &attempt)) {
    return *refused;
  }
  // The password again (and the code): a stolen access token alone cannot
  // add a way in.
  if (!password_matches(&user, password)) {
    attempt.failed();
    log::audit("passkey_registration_options",
               {{"outcome", "wrong_password"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::invalid_credentials, "The password is wrong.");
  }
  if (user.mfa_enabled) {
    if (!second_factor) {
      AuthError e = fail(AuthErrc::mfa_required, "Add a code from your authenticator app.");
      e.methods = {"totp", "recovery_code"};
      return e;
    }
    std::string kind;
    if (!second_factor_matches(user, *second_factor, deps_.clock.now(), &kind)) {
      attempt.failed();
      log::audit(
          "passkey_registration_options",
          {{"outcome", "wrong_code"}, {"method", kind}, {"user_id", user_id}, {"ip", client.ip}});
      return fail(AuthErrc::invalid_mfa_code, "The code is wrong, already used or expired.");
    }
  }
  // As at TOTP setup, the right password (and code) clears nothing: the
  // attempt is given back when this scope ends.

  PasskeyCreationOptions options;
  // Made once per account, on its first registration, and never changed.
  const std::string candidate = deps_.random.bytes(kUserHandleBytes);
  write_then_settle(
      "passkey_user_handle",
      [&] { options.user_handle = deps_.passkeys.user_handle(user.id, candidate); },
      [&] {
        auto stored = deps_.passkeys.find_user_handle(user.id);
        if (stored) options.user_handle = *stored;
        return stored.has_value();
      });
  options.challenge = new_webauthn_challenge(ChallengePurpose::registration, user.id, {});
  options.user_name = user.email;
  options.exclude = deps_.passkeys.list(user.id);
  log::audit("passkey_registration_options",
             {{"outcome", "ok"}, {"user_id", user_id}, {"ip", client.ip}});
  return options;
}

Outcome<Passkey> AuthService::register_passkey(const Authenticated& who,
                                               const webauthn::Registration& response,
                                               const std::vector<std::string>& transports,
                                               std::string_view name, const ClientInfo& client) {
  auto account = account_of(who);
  if (!account) return account.error();
  const User& user = account.value();
  const std::string user_id = user.id.to_string();
  auto refuse = [&](webauthn::Check check) {
    metrics().passkey_registration(PasskeyRegistration::invalid);
    log::audit("passkey_registration", {{"outcome", "invalid"},
                                        {"step", webauthn::check_name(check)},
                                        {"user_id", user_id},
                                        {"ip", client.ip}});
    return invalid_passkey(check);
  };
  // The challenge first (spent whatever follows), then WebAuthn L3 §7.1.
  auto challenge =
      take_webauthn_challenge(response.client_data.challenge, ChallengePurpose::registration);
  if (!challenge || challenge->user_id != user.id) return refuse(webauthn::Check::challenge);
  auto verified = webauthn::verify_registration(response, policy_.relying_party);
  if (const auto* check = std::get_if<webauthn::Check>(&verified)) return refuse(*check);
  const webauthn::NewCredential& credential = std::get<webauthn::NewCredential>(verified);

  const UnixSeconds now = deps_.clock.now();
  Passkey passkey;
  passkey.id = new_uuid_v7(deps_.clock, deps_.random);
  passkey.user_id = user.id;
  passkey.credential_id = credential.credential_id;
  passkey.alg = credential.alg;
  passkey.public_key = credential.public_key;
  passkey.sign_count = credential.sign_count;
  passkey.backup_eligible = credential.backup_eligible;
  passkey.backed_up = credential.backed_up;
  passkey.aaguid = credential.aaguid;
  passkey.transports = transports_text(transports);
  passkey.name = std::string(name);
  passkey.created_at = now;

  PasskeyStore::AddResult result = PasskeyStore::AddResult::added;
  // One commit: the passkey and the notice that says it was added.
  write_then_settle(
      "passkey_registration",
      [&] {
        deps_.transactions.in_transaction([&] {
          result = deps_.passkeys.add(passkey, policy_.max_passkeys_per_user);
          if (result != PasskeyStore::AddResult::added) return;
          queue_notice(deps_.outbox, policy_.mail, deps_.clock, deps_.random, user,
                       MailKind::passkey_added, passkey.name);
        });
      },
      // Ours is the row with the id we chose.
      [&] {
        if (result != PasskeyStore::AddResult::added) return true;
        return deps_.passkeys.find(passkey.id).has_value();
      });
  if (result == PasskeyStore::AddResult::exists) {
    metrics().passkey_registration(PasskeyRegistration::exists);
    log::audit("passkey_registration",
               {{"outcome", "exists"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::passkey_exists, "This passkey is registered already.");
  }
  if (result == PasskeyStore::AddResult::limit) {
    metrics().passkey_registration(PasskeyRegistration::limit);
    log::audit("passkey_registration",
               {{"outcome", "limit"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::passkey_limit,
                "This account has " + std::to_string(policy_.max_passkeys_per_user) +
                    " passkeys, as many as it may have: remove one first.");
  }
  metrics().passkey_registration(PasskeyRegistration::ok);
  log::audit("passkey_registered", {{"outcome", "ok"},
                                    {"user_id", user_id},
                                    {"passkey_id", passkey.id.to_string()},
                                    {"alg", credential.alg},
                                    {"synced", passkey.backup_eligible},
                                    {"ip", client.ip}});
  return passkey;
}

Outcome<std::vector<Passkey>> AuthService::list_passkeys(const Authenticated& who) {
  return deps_.passkeys.list(who.session.user_id);
}

Outcome<bool> AuthService::remove_passkey(const Authenticated& who, std::string_view passkey_id,
                                          const ClientInfo& client) {
  const UnixSeconds now = deps_.clock.now();
  const auto not_yours = fail(AuthErrc::not_found, "No passkey of yours has this id.");
  auto id = Uuid::parse(passkey_id);
  std::optional<Passkey> passkey;
  if (id) passkey = deps_.passkeys.find(*id);
  if (!passkey || passkey->user_id != who.session.user_id) return not_yours;
  const std::string user_id = who.session.user_id.to_string();
  // Removing a way in needs a recent login, as ending other sessions does.
  if (!recently_authenticated(who, now)) {
    log::audit("passkey_removed",
               {{"outcome", "reauthentication_required"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::reauthentication_required,
                "Log in again to remove a passkey (the last login is too old).");
  }
  auto account = account_of(who);
  if (!account) return account.error();
  bool removed = false;
  write_then_settle(
      "passkey_removal",
      [&] {
        deps_.transactions.in_transaction([&] {
          removed = deps_.passkeys.remove(passkey->user_id, passkey->id);
          if (!removed) return;
          queue_notice(deps_.outbox, policy_.mail, deps_.clock, deps_.random, account.value(),
                       MailKind::passkey_removed, passkey->name);
        });
      },
      [&] { return !deps_.passkeys.find(passkey->id).has_value(); });
  if (!removed) return not_yours;  // removed meanwhile
  log::audit("passkey_removed", {{"outcome", "ok"},
                                 {"user_id", user_id},
                                 {"passkey_id", passkey->id.to_string()},
                                 {"ip", client.ip}});
  return true;
}

// --- passwordless login ---------------------------------------------------------------

PasskeyRequestOptions AuthService::passkey_login_options() {
  // Names no account and depends on none: it tells nothing about who has
  // passkeys.
  PasskeyRequestOptions options;
  options.challenge = new_webauthn_challenge(ChallengePurpose::login, std::nullopt, {});
  options.user_verification_required = true;
  return options;
}

Outcome<TokenGrant> AuthService::passkey_login(const webauthn::Assertion& response,
                                               const ClientInfo& client) {
  constexpr auto kind = PasskeyLoginKind::passwordless;
  // The challenge first, counting for nothing.
  if (!take_webauthn_challenge(response.client_data.challenge, ChallengePurpose::login)) {
    metrics().passkey_login(kind, PasskeyLogin::invalid_challenge);
    log::audit("passkey_login", {{"outcome", "invalid_challenge"}, {"ip", client.ip}});
    return fail(AuthErrc::invalid_token,
                "The challenge is unknown, spent or expired: ask for new options.");
  }
  auto passkey = deps_.passkeys.find_by_credential_id(response.raw_id);
  std::optional<User> user;
  if (passkey) user = deps_.users.find_by_id(passkey->user_id);
  if (!passkey || !user) {
    // Nobody's passkey: nobody's failure either.
    metrics().passkey_login(kind, PasskeyLogin::unknown_credential);
    log::audit("passkey_login", {{"outcome", "unknown_credential"}, {"ip", client.ip}});
    return failed_passkey_login();
  }
  const std::string user_id = user->id.to_string();
  auto failed = [&](webauthn::Check check) {
    // A registered passkey that fails counts as a failed login of its
    // owner, like a wrong password (but never refuses one: a passkey cannot
    // be guessed).
    count_passkey_failure(user->email, client);
    metrics().passkey_login(kind, PasskeyLogin::failed);
    metrics().login(LoginOutcome::failed);
    log::audit("passkey_login", {{"outcome", "failed"},
                                 {"step", webauthn::check_name(check)},
                                 {"user_id", user_id},
                                 {"passkey_id", passkey->id.to_string()},
                                 {"ip", client.ip}});
    return failed_passkey_login();
  };
  // The user handle names the account (a discoverable credential): it must
  // be present and the owner's.
  const auto handle = deps_.passkeys.find_user_handle(user->id);
  if (!response.user_handle || !handle || *response.user_handle != *handle) {
    return failed(webauthn::Check::user_handle);
  }
  if (auto check =
          verify_passkey_use(*passkey, response, /*require_user_verification=*/true, client)) {
    return failed(*check);
  }
  // Verified, and the counter stored: an account that may not log in now is
  // neither a failure nor a success.
  if (user->disabled_at) {
    metrics().passkey_login(kind, PasskeyLogin::refused);
    metrics().login(LoginOutcome::disabled);
    log::audit("passkey_login", {{"outcome", "disabled"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::account_disabled, "This account has been disabled.");
  }
  if (auto refused = unverified_email_refusal(*user, client)) {
    metrics().passkey_login(kind, PasskeyLogin::refused);
    return *refused;
  }
  clear_after_passkey(user->email, client);
  const UnixSeconds now = deps_.clock.now();
  std::string refresh_token;
  // User verification made it two factors (possession and the device's
  // PIN or biometrics): "mfa", with TOTP on or not.
  Session session =
      new_session_with(*user, client, now, std::string(key_amr(*passkey)) + ",mfa", &refresh_token);
  bool opened = false;
  write_then_settle(
      "passkey_login",
      [&] {
        deps_.transactions.in_transaction([&] {
          // Under the account's row lock, as a password login: an account
          // closed meanwhile gets no session.
          opened = deps_.users.record_login(user->id, now);
          if (opened) open_session(session, now);
        });
      },
      [&] { return !opened || deps_.sessions.find(session.id).has_value(); });
  if (!opened) {
    // Its passkey went with it: an unknown credential by now.
    metrics().passkey_login(kind, PasskeyLogin::unknown_credential);
    log::audit("passkey_login",
               {{"outcome", "account_gone"}, {"user_id", user_id}, {"ip", client.ip}});
    return failed_passkey_login();
  }
  user->last_login_at = now;
  metrics().passkey_login(kind, PasskeyLogin::ok);
  metrics().login(LoginOutcome::ok);
  log::audit("login", {{"outcome", "ok"},
                       {"method", "passkey"},
                       {"user_id", user_id},
                       {"passkey_id", passkey->id.to_string()},
                       {"session_id", session.id.to_string()},
                       {"ip", client.ip}});
  return grant_for(*user, session, std::move(refresh_token), now);
}

// --- second factor -------------------------------------------------------------------

Outcome<PasskeyRequestOptions> AuthService::mfa_passkey_options(std::string_view mfa_token,
                                                                const ClientInfo& client) {
  auto step = second_step(mfa_token, client, nullptr);
  if (!step) return step.error();
  const User& user = step.value().user;
  PasskeyRequestOptions options;
  options.allow = deps_.passkeys.list(user.id);
  if (options.allow.empty()) return fail(AuthErrc::not_found, "This account has no passkey.");
  options.user_verification_required = false;
  options.challenge =
      new_webauthn_challenge(ChallengePurpose::second_factor, user.id, step.value().token_hash);
  return options;
}

Outcome<TokenGrant> AuthService::mfa_verify_passkey(std::string_view mfa_token,
                                                    const webauthn::Assertion& response,
                                                    const ClientInfo& client) {
  constexpr auto kind = PasskeyLoginKind::second_factor;
  ThrottleAttempt attempt;
  auto step = second_step(mfa_token, client, &attempt);
  if (!step) return step.error();
  const User& user = step.value().user;
  const std::string user_id = user.id.to_string();
  // Whatever fails here is a wrong second factor: a failed login, and the
  // mfa_token stays usable.
  auto failed = [&](webauthn::Check check) {
    attempt.failed();
    metrics().passkey_login(kind, check == webauthn::Check::challenge
                                      ? PasskeyLogin::invalid_challenge
                                      : PasskeyLogin::failed);
    metrics().login(LoginOutcome::failed);
    log::audit("mfa_verify", {{"outcome", "wrong_code"},
                              {"method", "passkey"},
                              {"step", webauthn::check_name(check)},
                              {"user_id", user_id},
                              {"ip", client.ip}});
    return wrong_code();
  };
  // The challenge, bound to this account and this mfa_token, spent by any
  // attempt.
  auto challenge =
      take_webauthn_challenge(response.client_data.challenge, ChallengePurpose::second_factor);
  if (!challenge || challenge->user_id != user.id ||
      challenge->mfa_token_hash != step.value().token_hash) {
    return failed(webauthn::Check::challenge);
  }
  // One of this account's passkeys (one removed since the options were
  // made is gone).
  auto passkey = deps_.passkeys.find_by_credential_id(response.raw_id);
  if (!passkey || passkey->user_id != user.id) return failed(webauthn::Check::unknown_credential);
  // The user handle may be left out here; if present, it is the account's.
  if (response.user_handle) {
    const auto handle = deps_.passkeys.find_user_handle(user.id);
    if (!handle || *response.user_handle != *handle) return failed(webauthn::Check::user_handle);
  }
  if (auto check =
          verify_passkey_use(*passkey, response, /*require_user_verification=*/false, client)) {
    return failed(*check);
  }
  auto grant = complete_second_step(step.value(), "pwd," + std::string(key_amr(*passkey)),
                                    "passkey", client, &attempt);
  if (grant) metrics().passkey_login(kind, PasskeyLogin::ok);
  return grant;
}

}  // namespace authd
