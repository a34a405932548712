#pragma once
// Closing an account (DELETE /auth/me, DELETE /admin/users/{id}): the
// account and everything that hangs on it go in one transaction
// (UserStore::erase_account), and the notice to its address is queued in
// the same commit, in an outbox row that names no account. Every token of
// it is refused from the next request on, since its sessions are gone.
//
// The caller judges who may close the account; what that judgement rests on
// in the account's row (its password, its sessions) is judged again under
// the row's lock, so a password change or a login racing the closing is
// wholly before it or wholly after it.
#include <functional>
#include <optional>

#include "auth/mail_policy.h"
#include "auth/outcome.h"
#include "ports/clock.h"
#include "ports/outbox_store.h"
#include "ports/random.h"
#include "ports/records.h"
#include "ports/transaction.h"
#include "ports/user_store.h"

namespace authd {

// How long the notice may wait for a relay before it is dropped.
inline constexpr UnixSeconds kClosureNoticeLifetime = 3 * 86400;

class AccountCloser {
 public:
  // Runs under the lock on the account's row, with the row as it is then:
  // a refusal it returns is the answer, and nothing is written.
  using Judge = std::function<std::optional<AuthError>(const User& locked)>;

  AccountCloser(UserStore& users, OutboxStore& outbox, TransactionRunner& transactions,
                const Clock& clock, Random& random, const MailPolicy& policy)
      : users_(users),
        outbox_(outbox),
        transactions_(transactions),
        clock_(clock),
        random_(random),
        policy_(policy) {}

  // The closed account as it was, or the judge's refusal, or not_found when
  // there is no such account (any more). A commit whose answer was lost is
  // settled by reading the account again: gone means closed.
  Outcome<User> close(const Uuid& id, const Judge& still_allowed = {});

 private:
  OutgoingMail notice(const User& user, UnixSeconds now);

  UserStore& users_;
  OutboxStore& outbox_;
  TransactionRunner& transactions_;
  const Clock& clock_;
  Random& random_;
  const MailPolicy& policy_;
};

}  // namespace authd
