// Use case: an account closed by its owner (DELETE /auth/me). Judged in
// API.md's order for routes with a bearer token and a password: the token
// (the handler), throttling, the password, then the code.
#include "auth/account_closure.h"
#include "auth/auth_service.h"
#include "log/log.h"

namespace authd {

Outcome<User> AuthService::close_account(const Authenticated& who, std::string_view password,
                                         std::optional<std::string_view> second_factor,
                                         const ClientInfo& client) {
  auto account = account_of(who);
  if (!account) return account.error();
  const User user = std::move(account.value());
  const std::string user_id = user.id.to_string();
  // The login throttle's reservation, as at login and password change
  // (auth/throttle_attempt.h): a wrong password or code here is a failed
  // login; a missing code gives the attempt back. A right password clears
  // nothing by itself: only a closing that commits does, since the
  // account's throttle rows go with it (API.md).
  ThrottleAttempt attempt;
  if (auto refused = admit(user.email, client, "close_account", &attempt)) return *refused;
  if (!password_matches(&user, password)) {
    attempt.failed();
    log::audit("close_account",
               {{"outcome", "wrong_password"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::invalid_credentials, "The password is wrong.");
  }
  // No code while the factor is on: neither a failure nor a success (the
  // reserved attempt goes back).
  if (auto refused = second_factor_refusal(user, second_factor, attempt, "close_account", client)) {
    return *refused;
  }

  // Judged again under the account's lock: the password we checked must
  // still be the current one, and the token's session still live (a
  // password change in between ended it), or this request comes after that
  // change and is refused as it would have been.
  auto closed =
      AccountCloser(deps_.users, deps_.outbox, deps_.transactions, deps_.clock, deps_.random,
                    policy_.mail)
          .close(user.id, [&](const User& locked) -> std::optional<AuthError> {
            if (locked.password_hash != user.password_hash) {
              return fail(AuthErrc::invalid_credentials, "The password is wrong.");
            }
            auto session = deps_.sessions.find(who.session.id);
            if (locked.disabled_at || !session || !session_is_live(*session, deps_.clock.now())) {
              return fail(AuthErrc::invalid_token, "The session of this token has ended.");
            }
            return std::nullopt;
          });
  if (!closed) {
    AuthError e = closed.error();
    // A password changed meanwhile: this request's password is no longer
    // the account's, a wrong password as it would have been after the
    // change. A session ended meanwhile counts for nothing (the attempt
    // goes back), as a bad token would.
    if (e.code == AuthErrc::invalid_credentials) attempt.failed();
    // Closed meanwhile by someone else: this token's session went with it,
    // and the email's counters with the account (the attempt is settled
    // where it stands: a give-back would write the email's rows again).
    if (e.code == AuthErrc::not_found) {
      attempt.failed();
      e = fail(AuthErrc::invalid_token, "The session has ended.");
    }
    log::audit("close_account",
               {{"outcome", "lost_race"}, {"user_id", user_id}, {"ip", client.ip}});
    return e;
  }
  // A success: the email's counters went in the closing's commit already
  // (this clears nothing more, and the attempt is settled, so nothing is
  // given back: a give-back would write the email's rows again).
  attempt.settle();
  // The account id, never the email: the line outlives the account.
  log::audit("account_closed",
             {{"outcome", "ok"}, {"actor", "self"}, {"user_id", user_id}, {"ip", client.ip}});
  return std::move(closed.value());
}

}  // namespace authd
