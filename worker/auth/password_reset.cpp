// Use case: set a new password with the emailed reset token. The token is
// judged first (unknown, spent, expired, or of a disabled account: 401),
// then the password rules (422, which leave the token usable). With a second
// factor on, the reset still sets the password and ends every session, but
// answers 403 mfa_required: an email link alone never gets past the factor,
// unless that factor was enrolled while the address was unverified: the
// link proved the mailbox, so such a factor goes and the reset answers the
// token pair (remove_factors_enrolled_unverified).
#include <algorithm>

#include "auth/auth_service.h"
#include "auth/commit_outcome.h"
#include "auth/link_token.h"
#include "log/log.h"

namespace authd {
namespace {

// Enrolled at `enrolled_at` while the address was unverified: it was never
// verified, or only later. Times are whole seconds: a factor enrolled in
// the very second the address was verified counts as unverified (the
// mailbox owner wins the tie).
bool enrolled_unverified(UnixSeconds enrolled_at, const std::optional<UnixSeconds>& verified_at) {
  return !verified_at || enrolled_at <= *verified_at;
}

}  // namespace

std::vector<std::string> AuthService::remove_factors_enrolled_unverified(const User& user,
                                                                         UnixSeconds now) {
  std::vector<std::string> removed;
  const MfaState totp = deps_.mfa.read(user.id);
  if (totp.enabled && enrolled_unverified(totp.enabled_at.value_or(0), user.email_verified_at)) {
    // Its recovery codes and the second steps under way go with it.
    deps_.mfa.disable(user.id, now);
    removed.push_back("totp");
    removed.push_back("recovery_codes");
  }
  // Passkeys registered before the address was proven (or ever, when it
  // never was): a squatter's way in, as its TOTP is.
  if (deps_.passkeys.remove_created_while_unverified(user.id, user.email_verified_at) > 0) {
    removed.push_back("passkeys");
  }
  return removed;
}

Outcome<TokenGrant> AuthService::reset_password(std::string_view token,
                                                std::string_view new_password,
                                                const ClientInfo& client) {
  // The one answer for every way a link fails (nothing to tell a prober), and
  // the way itself in the audit line, for whoever reads why a user's link
  // was refused.
  auto invalid = [&](std::string_view reason) {
    log::audit("password_reset",
               {{"outcome", "invalid_token"}, {"reason", reason}, {"ip", client.ip}});
    return fail(AuthErrc::invalid_token, "The reset link is invalid, used or expired.");
  };
  if (!is_link_token_shape(token)) return invalid("malformed");
  const std::string hash = link_token_digest(token);
  UnixSeconds now = deps_.clock.now();
  auto row = deps_.email_tokens.find(hash);
  if (!row || row->purpose != LinkPurpose::reset_password) return invalid("unknown");
  if (now >= row->expires_at) return invalid("expired");
  auto user = deps_.users.find_by_id(row->user_id);
  if (!user) return invalid("no_account");
  const std::string user_id = user->id.to_string();
  if (user->disabled_at) {
    // A link issued before an operator disabled the account: void, like the
    // sessions the disabling ended (API.md lists no 403 but mfa_required here).
    log::audit("password_reset",
               {{"outcome", "disabled"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::invalid_token, "The reset link is invalid, used or expired.");
  }

  auto normalised = nfkc_password(new_password);
  std::optional<std::string> weak =
      normalised ? weak_password_reason(*normalised, user->email, policy_.password_rules)
                 : std::optional<std::string>("Password must not contain NUL characters.");
  if (weak) {
    log::audit("password_reset",
               {{"outcome", "weak_password"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::weak_password, *weak);
  }

  const std::string new_hash = deps_.hasher.hash(*normalised);
  now = deps_.clock.now();
  std::string refresh_token;
  Session session = new_session(*user, client, now, &refresh_token);
  bool spent = false;
  std::string_view refused = "spent_meanwhile";  // why nothing was written, when so
  bool second_factor = false;
  int ended = 0;
  std::vector<std::string> factors_removed;
  // One commit: the token spent (with every other reset link), the new
  // hash, every session ended, the address verified (the link proved the
  // mailbox), the new session opened. The token's row lock makes a second
  // use of the same token wait, then find it gone.
  write_then_settle(
      "password_reset",
      [&] {
        deps_.transactions.in_transaction([&] {
          // Afresh on every run: one that lost to another use of this token
          // (a conflict, run again) finds it spent and writes nothing.
          spent = false;
          refused = "spent_meanwhile";
          second_factor = false;
          ended = 0;
          auto locked = deps_.email_tokens.find_for_update(hash);
          if (!locked || now >= locked->expires_at) {
            refused = locked ? "expired" : "spent_meanwhile";
            return;
          }
          auto current = deps_.users.find_by_email_for_update(user->email);
          if (!current || current->id != user->id) {
            refused = "account_changed";
            return;
          }
          // Compare-and-swap against the row we hold locked: it cannot miss, and
          // if it did nothing would have been written yet.
          if (!deps_.users.replace_password_hash(user->id, current->password_hash, new_hash, now)) {
            refused = "hash_changed";
            return;
          }
          deps_.email_tokens.remove_all(user->id, LinkPurpose::reset_password);
          ended = deps_.sessions.revoke_all_for_user(user->id, now);
          // A changed password voids the second steps of logins under way.
          deps_.mfa.void_challenges(user->id, now);
          // Judged on the row as it was, before the address is marked verified.
          factors_removed = remove_factors_enrolled_unverified(*current, now);
          if (std::find(factors_removed.begin(), factors_removed.end(), "totp") !=
              factors_removed.end()) {
            current->mfa_enabled = false;
          }
          if (deps_.users.mark_email_verified(user->id, now)) {
            current->email_verified_at = now;
            // Proven now: the verification links have nothing left to prove.
            deps_.email_tokens.remove_all(user->id, LinkPurpose::verify_email);
          }
          second_factor = current->mfa_enabled;
          if (!second_factor) open_session(session, now);
          *user = std::move(*current);
          spent = true;
        });
      },
      // Committed exactly when the stored hash is the one we made (its salt
      // is ours alone). Nothing to write (a token gone meanwhile) is settled.
      [&] {
        if (!spent) return true;
        auto stored = deps_.users.find_by_id(user->id);
        return stored && stored->password_hash == new_hash;
      });
  if (!spent) return invalid(refused);
  if (!factors_removed.empty()) {
    std::string factors;
    for (const auto& f : factors_removed)
      factors += (factors.empty() ? "" : ",") + f;
    log::audit("mfa_disabled", {{"actor", "password_reset"},
                                {"reason", "enrolled_while_unverified"},
                                {"factors", factors},
                                {"user_id", user_id},
                                {"ip", client.ip}});
  }
  user->password_hash = new_hash;
  user->password_changed_at = now;
  if (second_factor) {
    log::audit("password_reset", {{"outcome", "mfa_required"},
                                  {"user_id", user_id},
                                  {"sessions_ended", ended},
                                  {"ip", client.ip}});
    return mfa_challenge(*user, client);
  }
  log::audit("password_reset", {{"outcome", "ok"},
                                {"user_id", user_id},
                                {"sessions_ended", ended},
                                {"session_id", session.id.to_string()},
                                {"ip", client.ip}});
  return grant_for(*user, session, std::move(refresh_token), now);
}

}  // namespace authd
