#include "auth/commit_outcome.h"
#include "auth/email.h"
#include "auth/link_issuer.h"
#include "auth/operator_service.h"
#include "log/log.h"

namespace authd {
namespace {
AuthError no_account() {
  return fail(AuthErrc::not_found, "No account has this email address.");
}
}  // namespace

Outcome<OperatorResult> OperatorService::disable_user(std::string_view raw_email) {
  auto user = users_.find_by_email(email::normalise(raw_email));
  if (!user) return no_account();
  return disable(std::move(*user), Actor{});
}

Outcome<OperatorResult> OperatorService::enable_user(std::string_view raw_email) {
  auto user = users_.find_by_email(email::normalise(raw_email));
  if (!user) return no_account();
  return enable(std::move(*user), Actor{});
}

Outcome<OperatorResult> OperatorService::revoke_user_sessions(std::string_view raw_email) {
  auto user = users_.find_by_email(email::normalise(raw_email));
  if (!user) return no_account();
  return revoke_sessions(std::move(*user), Actor{});
}

Outcome<OperatorResult> OperatorService::disable(User user, const Actor& actor) {
  const UnixSeconds now = clock_.now();
  OperatorResult result;
  bool found = false;
  // No token outlives the disabling, not even one that would work again
  // once the account is enabled: the sessions, the reset links and the
  // mfa_tokens of logins under way all end in one commit (finding 14).
  write_then_settle(
      "disable",
      [&] {
        transactions_.in_transaction([&] {
          result.sessions_ended = 0;
          // No row: the account was closed after it was found.
          found = users_.set_disabled(user.id, now);
          if (!found) return;
          result.sessions_ended = sessions_.revoke_all_for_user(user.id, now);
          email_tokens_.remove_all(user.id, LinkPurpose::reset_password);
          mfa_.void_challenges(user.id, now);
        });
      },
      [&] {
        if (!found) return true;
        auto stored = users_.find_by_id(user.id);
        return stored && stored->disabled_at.has_value();
      });
  if (!found) {
    log::audit("account_disabled", {{"outcome", "not_found"},
                                    {"actor", actor.kind},
                                    log::Field::optional("admin_key", actor.admin_key),
                                    {"user_id", user.id.to_string()}});
    return no_account();
  }
  user.disabled_at = now;
  result.user = user;
  log::audit("account_disabled", {{"outcome", "ok"},
                                  {"actor", actor.kind},
                                  log::Field::optional("admin_key", actor.admin_key),
                                  {"user_id", user.id.to_string()},
                                  {"sessions_ended", result.sessions_ended}});
  return result;
}

Outcome<OperatorResult> OperatorService::enable(User user, const Actor& actor) {
  if (!users_.set_disabled(user.id, std::nullopt)) {
    log::audit("account_enabled", {{"outcome", "not_found"},
                                   {"actor", actor.kind},
                                   log::Field::optional("admin_key", actor.admin_key),
                                   {"user_id", user.id.to_string()}});
    return no_account();
  }
  user.disabled_at.reset();
  log::audit("account_enabled", {{"outcome", "ok"},
                                 {"actor", actor.kind},
                                 log::Field::optional("admin_key", actor.admin_key),
                                 {"user_id", user.id.to_string()}});
  return OperatorResult{std::move(user), 0, 0};
}

OperatorResult OperatorService::revoke_sessions(User user, const Actor& actor) {
  OperatorResult result{user, sessions_.revoke_all_for_user(user.id, clock_.now()), 0};
  log::audit("session_ended", {{"outcome", "ok"},
                               {"actor", actor.kind},
                               log::Field::optional("admin_key", actor.admin_key),
                               {"reason", "revoked_by_operator"},
                               {"user_id", user.id.to_string()},
                               {"sessions_ended", result.sessions_ended}});
  return result;
}

Outcome<OperatorResult> OperatorService::unlock_user(std::string_view raw_email) {
  const std::string email = email::normalise(raw_email);
  auto user = users_.find_by_email(email);
  if (!user) return no_account();
  OperatorResult result{*user, 0, throttle_.clear_all(email)};
  log::audit("account_unlocked", {{"outcome", "ok"},
                                  {"actor", "operator"},
                                  {"user_id", user->id.to_string()},
                                  {"counters_cleared", result.counters_cleared}});
  return result;
}

Outcome<OperatorResult> OperatorService::reset_mfa(std::string_view raw_email) {
  auto user = users_.find_by_email(email::normalise(raw_email));
  if (!user) return no_account();
  const UnixSeconds now = clock_.now();
  OperatorResult result;
  transactions_.in_transaction([&] {
    mfa_.disable(user->id, now);
    result.sessions_ended = sessions_.revoke_all_for_user(user->id, now);
  });
  user->mfa_enabled = false;
  result.user = *user;
  log::audit("mfa_disabled", {{"actor", "operator"},
                              {"reason", "mfa_reset"},
                              {"user_id", user->id.to_string()},
                              {"sessions_ended", result.sessions_ended}});
  return result;
}

Outcome<OperatorResult> OperatorService::reset_passkeys(std::string_view raw_email,
                                                        const PasskeyResetDeps& deps) {
  auto user = users_.find_by_email(email::normalise(raw_email));
  if (!user) return no_account();
  OperatorResult result;
  write_then_settle(
      "passkey_reset",
      [&] {
        transactions_.in_transaction([&] {
          result.passkeys_removed = deps.passkeys.remove_all(user->id);
          if (result.passkeys_removed == 0) return;
          queue_notice(deps.outbox, deps.mail, clock_, deps.random, *user, MailKind::passkeys_reset,
                       std::to_string(result.passkeys_removed) +
                           (result.passkeys_removed == 1 ? " passkey" : " passkeys"));
        });
      },
      [&] { return deps.passkeys.count(user->id) == 0; });
  result.user = *user;
  log::audit("passkeys_reset", {{"outcome", "ok"},
                                {"actor", "operator"},
                                {"user_id", user->id.to_string()},
                                {"passkeys_removed", result.passkeys_removed}});
  return result;
}

}  // namespace authd
