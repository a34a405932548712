#pragma once
// Issues one emailed link: the older links of its purpose stop working, a
// new token is stored (its digest), and the message that carries it is
// written to the outbox. Runs inside the caller's transaction, so the link
// exists exactly when its message does (registration: with the account).
#include <functional>
#include <string_view>

#include "auth/mail_policy.h"
#include "mail/templates.h"
#include "ports/clock.h"
#include "ports/email_token_store.h"
#include "ports/outbox_store.h"
#include "ports/random.h"
#include "ports/records.h"
#include "ports/transaction.h"
#include "ports/user_store.h"

namespace authd {

class LinkIssuer {
 public:
  LinkIssuer(EmailTokenStore& tokens, OutboxStore& outbox, const Clock& clock, Random& random,
             const MailPolicy& policy)
      : tokens_(tokens), outbox_(outbox), clock_(clock), random_(random), policy_(policy) {}

  void issue(const User& user, LinkPurpose purpose, bool counts_toward_cap);
  // An invitation (admin API): a reset link, since it is spent like one and
  // sets the first password, valid INVITE_TOKEN_TTL, in a message of its
  // own that does not count toward the hourly cap.
  void invite(const User& user);

 private:
  void issue_as(const User& user, LinkPurpose purpose, MailKind kind, UnixSeconds lifetime,
                bool counts_toward_cap);

  EmailTokenStore& tokens_;
  OutboxStore& outbox_;
  const Clock& clock_;
  Random& random_;
  const MailPolicy& policy_;
};

UnixSeconds link_lifetime(const MailPolicy& policy, LinkPurpose purpose);

// The message of `kind` to the user, as the outbox takes it: the letter
// with `values`, the envelope from the policy, to be sent before
// `expires_at`. Every message goes through here (links, invitations,
// notices).
OutgoingMail compose_mail(const User& user, MailKind kind, const mail::LetterValues& values,
                          const MailPolicy& policy, const Clock& clock, Random& random,
                          UnixSeconds expires_at, bool counts_toward_cap);

// A notice with no link of its own (`kind`: passkey_added, passkey_removed,
// passkeys_reset) naming `passkey`, queued in the caller's transaction. It
// does not count toward the hourly cap, and is dropped if it cannot be sent
// within a week.
void queue_notice(OutboxStore& outbox, const MailPolicy& policy, const Clock& clock, Random& random,
                  const User& user, MailKind kind, std::string_view passkey);

// A new account and its first link in one commit (registration, an admin's
// invitation): `issue` runs in the account's transaction. A commit whose
// answer was lost is settled by reading the account back (the id and hash
// made for it). False when the email is taken: nothing was written.
bool insert_account_with_link(UserStore& users, TransactionRunner& transactions,
                              std::string_view use_case, const User& user,
                              const std::function<void()>& issue);

}  // namespace authd
