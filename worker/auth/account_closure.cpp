#include "auth/account_closure.h"

#include "auth/commit_outcome.h"
#include "auth/link_issuer.h"

namespace authd {

OutgoingMail AccountCloser::notice(const User& user, UnixSeconds now) {
  mail::LetterValues values;
  values.email = user.email;
  OutgoingMail mail = compose_mail(user, MailKind::account_closed, values, policy_, clock_, random_,
                                   now + kClosureNoticeLifetime, /*counts_toward_cap=*/false);
  // No user_id: the row outlives the account and must not name it.
  mail.user_id.reset();
  return mail;
}

Outcome<User> AccountCloser::close(const Uuid& id, const Judge& still_allowed) {
  std::optional<AuthError> refused;
  std::optional<User> closed;
  write_then_settle(
      "close_account",
      [&] {
        transactions_.in_transaction([&] {
          refused.reset();
          closed.reset();
          auto user = users_.find_by_id_for_update(id);
          if (!user) {
            refused = fail(AuthErrc::not_found, "No such account.");
            return;
          }
          if (still_allowed) {
            refused = still_allowed(*user);
            if (refused) return;
          }
          if (!users_.erase_account(user->id, user->email)) {
            refused = fail(AuthErrc::not_found, "No such account.");
            return;
          }
          outbox_.enqueue(notice(*user, clock_.now()));
          closed = std::move(*user);
        });
      },
      // Nothing to write (refused, gone) is settled; a closing is applied
      // exactly when the account is gone.
      [&] { return !closed || !users_.find_by_id(id).has_value(); });
  if (refused) return *refused;
  return std::move(*closed);
}

}  // namespace authd
