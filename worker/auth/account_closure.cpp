#include "auth/account_closure.h"

#include "auth/commit_outcome.h"
#include "auth/link_issuer.h"
#include "mail/message.h"
#include "mail/templates.h"

namespace authd {

OutgoingMail AccountCloser::notice(const User& user, UnixSeconds now) {
  mail::LetterValues values;
  values.email = user.email;
  const mail::Envelope envelope = envelope_to(policy_, user.email, now, random_);

  OutgoingMail mail;
  // No user_id: the row outlives the account and must not name it.
  mail.kind = MailKind::account_closed;
  mail.recipient = user.email;
  mail.message =
      mail::compose_message(envelope, mail::render_letter(MailKind::account_closed, values));
  mail.counts_toward_cap = false;
  mail.created_at = now;
  mail.expires_at = now + kClosureNoticeLifetime;
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
