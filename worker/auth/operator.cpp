// Operators' actions (`authd user …`), each one audit line.
#include "auth/auth_service.h"
#include "auth/email.h"
#include "log/log.h"

namespace authd {
namespace {
AuthError no_account() {
  return fail(AuthErrc::not_found, "No account has this email address.");
}
}  // namespace

Outcome<OperatorResult> AuthService::disable_user(std::string_view raw_email) {
  auto user = deps_.users.find_by_email(email::normalise(raw_email));
  if (!user) return no_account();
  const UnixSeconds now = deps_.clock.now();
  OperatorResult result;
  // Disabled and every session ended in one commit: no token outlives it.
  deps_.transactions.in_transaction([&] {
    deps_.users.set_disabled(user->id, now);
    result.sessions_ended = deps_.sessions.revoke_all_for_user(user->id, now);
  });
  user->disabled_at = now;
  result.user = *user;
  log::audit("account_disabled", {{"actor", "operator"},
                                  {"user_id", user->id.to_string()},
                                  {"sessions_ended", result.sessions_ended}});
  return result;
}

Outcome<OperatorResult> AuthService::enable_user(std::string_view raw_email) {
  auto user = deps_.users.find_by_email(email::normalise(raw_email));
  if (!user) return no_account();
  deps_.users.set_disabled(user->id, std::nullopt);
  user->disabled_at.reset();
  log::audit("account_enabled", {{"actor", "operator"}, {"user_id", user->id.to_string()}});
  return OperatorResult{*user, 0, 0};
}

Outcome<OperatorResult> AuthService::revoke_user_sessions(std::string_view raw_email) {
  auto user = deps_.users.find_by_email(email::normalise(raw_email));
  if (!user) return no_account();
  OperatorResult result{*user, deps_.sessions.revoke_all_for_user(user->id, deps_.clock.now()), 0};
  log::audit("session_ended", {{"actor", "operator"},
                               {"reason", "revoked_by_operator"},
                               {"user_id", user->id.to_string()},
                               {"sessions_ended", result.sessions_ended}});
  return result;
}

Outcome<OperatorResult> AuthService::unlock_user(std::string_view raw_email) {
  const std::string email = email::normalise(raw_email);
  auto user = deps_.users.find_by_email(email);
  if (!user) return no_account();
  OperatorResult result{*user, 0, deps_.throttle.clear_all(email)};
  log::audit("account_unlocked", {{"actor", "operator"},
                                  {"user_id", user->id.to_string()},
                                  {"counters_cleared", result.counters_cleared}});
  return result;
}

}  // namespace authd
