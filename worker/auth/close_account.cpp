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
  // The login throttle's path, as at login and password change: a wrong
  // password or code here is a failed login. (Where the security work
  // reserves the attempt under a row lock for every route that judges a
  // secret, this admit() is the one call to switch.)
  ThrottleAttempt attempt;
  if (auto refused = admit(user.email, client, "close_account", &attempt)) return *refused;
  if (!password_matches(&user, password)) {
    attempt_failed(attempt);
    log::audit("close_account",
               {{"outcome", "wrong_password"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::invalid_credentials, "The password is wrong.");
  }
  // No code while the factor is on: neither a failure nor a success (the
  // reserved attempt goes back).
  if (auto refused = second_factor_refusal(user, second_factor, attempt, "close_account", client)) {
    return *refused;
  }
  attempt_succeeded(attempt);

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
    // Closed meanwhile by someone else: this token's session went with it.
    if (e.code == AuthErrc::not_found) e = fail(AuthErrc::invalid_token, "The session has ended.");
    log::audit("close_account",
               {{"outcome", "lost_race"}, {"user_id", user_id}, {"ip", client.ip}});
    return e;
  }
  // The account id, never the email: the line outlives the account.
  log::audit("account_closed",
             {{"outcome", "ok"}, {"actor", "self"}, {"user_id", user_id}, {"ip", client.ip}});
  return std::move(closed.value());
}

}  // namespace authd
