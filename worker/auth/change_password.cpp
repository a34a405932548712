// Use case: change a password with the current one (no token needed).
#include "auth/auth_service.h"
#include "auth/commit_outcome.h"
#include "auth/email.h"
#include "log/log.h"

namespace authd {

Outcome<TokenGrant> AuthService::change_password(std::string_view raw_email,
                                                 std::string_view current_password,
                                                 std::string_view new_password,
                                                 std::optional<std::string_view> second_factor,
                                                 const ClientInfo& client) {
  const std::string email = email::normalise(raw_email);
  // Leaving this scope without a verdict (disabled, second factor due)
  // gives a reserved failure back.
  ThrottleAttempt attempt;
  if (auto refused = admit(email, client, "password_change", &attempt)) return *refused;

  auto user = deps_.users.find_by_email(email);
  // Credentials first: nothing about the new password is said to someone
  // who does not know the current one.
  if (!password_matches(user ? &*user : nullptr, current_password)) {
    attempt.failed();
    log::audit("password_change",
               {{"outcome", "failed"},
                log::Field::optional("user_id", user ? user->id.to_string() : ""),
                {"ip", client.ip}});
    return fail(AuthErrc::invalid_credentials, "The email or password is wrong.");
  }
  const std::string user_id = user->id.to_string();
  if (user->disabled_at) {
    log::audit("password_change",
               {{"outcome", "disabled"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::account_disabled, "This account has been disabled.");
  }
  // The same rule as login: a change would otherwise hand a session (and a
  // password of their choosing) to whoever registered someone else's address.
  if (auto refused = unverified_email_refusal(*user, client, "password_change")) return *refused;
  if (auto refused =
          second_factor_refusal(*user, second_factor, attempt, "password_change", client)) {
    return *refused;
  }
  attempt.succeeded();

  auto normalised_new = nfkc_password(new_password);
  auto normalised_current = nfkc_password(current_password);
  if (normalised_new && normalised_current && *normalised_new == *normalised_current) {
    return fail(AuthErrc::password_unchanged, "The new password is the same as the current one.");
  }
  if (!normalised_new) {
    return fail(AuthErrc::weak_password, "Password must not contain NUL characters.");
  }
  if (auto reason = weak_password_reason(*normalised_new, email, policy_.password_rules)) {
    return fail(AuthErrc::weak_password, *reason);
  }

  std::string new_hash = deps_.hasher.hash(*normalised_new);
  const UnixSeconds now = deps_.clock.now();
  std::string refresh_token;
  // A change proven with a second factor keeps it in the new session's amr.
  Session session =
      new_session_with(*user, client, now, user->mfa_enabled ? "pwd,otp" : "pwd", &refresh_token);
  bool replaced = false;
  int ended = 0;
  // One commit: the new hash, every older session ended, pending reset
  // links voided, the new session opened. Revocation is by session, so a
  // login in this same second dies too.
  write_then_settle(
      "password_change",
      [&] {
        deps_.transactions.in_transaction([&] {
          replaced =
              deps_.users.replace_password_hash(user->id, user->password_hash, new_hash, now);
          if (!replaced) return;
          ended = deps_.sessions.revoke_all_for_user(user->id, now);
          deps_.mfa.void_challenges(user->id, now);
          // A reset link mailed before the change would otherwise still set
          // a password over the one just chosen (ASVS 6.4.x: a credential
          // change voids the outstanding recovery paths).
          deps_.email_tokens.remove_all(user->id, LinkPurpose::reset_password);
          open_session(session, now);
        });
      },
      // Committed exactly when the stored hash is the one we made (a later
      // change would also have ended the session we opened in it).
      [&] {
        auto stored = deps_.users.find_by_id(user->id);
        if (stored && stored->password_hash == new_hash) return replaced = true;
        auto opened = deps_.sessions.find(session.id);
        return replaced = opened.has_value();
      });
  if (!replaced) {
    // Another change won the race: the current password we checked is no
    // longer the current one.
    log::audit("password_change",
               {{"outcome", "lost_race"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::invalid_credentials, "The email or password is wrong.");
  }
  user->password_hash = new_hash;
  user->password_changed_at = now;
  log::audit("password_change", {{"outcome", "ok"},
                                 {"user_id", user_id},
                                 {"sessions_ended", ended},
                                 {"session_id", session.id.to_string()},
                                 {"ip", client.ip}});
  return grant_for(*user, session, std::move(refresh_token), now);
}

}  // namespace authd
