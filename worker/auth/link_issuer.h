#pragma once
// Issues one emailed link: the older links of its purpose stop working, a
// new token is stored (its digest), and the message that carries it is
// written to the outbox. Runs inside the caller's transaction, so the link
// exists exactly when its message does (registration: with the account).
#include <string_view>

#include "auth/mail_policy.h"
#include "mail/templates.h"
#include "ports/clock.h"
#include "ports/email_token_store.h"
#include "ports/outbox_store.h"
#include "ports/random.h"
#include "ports/records.h"

namespace authd {

class LinkIssuer {
 public:
  LinkIssuer(EmailTokenStore& tokens, OutboxStore& outbox, const Clock& clock, Random& random,
             const MailPolicy& policy)
      : tokens_(tokens), outbox_(outbox), clock_(clock), random_(random), policy_(policy) {}

  void issue(const User& user, LinkPurpose purpose, bool counts_toward_cap);

 private:
  EmailTokenStore& tokens_;
  OutboxStore& outbox_;
  const Clock& clock_;
  Random& random_;
  const MailPolicy& policy_;
};

UnixSeconds link_lifetime(const MailPolicy& policy, LinkPurpose purpose);

// The message of `purpose` to the user, as the outbox takes it: the letter
// with `values`, the envelope from the policy, to be sent before
// `expires_at`.
OutgoingMail compose_mail(const User& user, LinkPurpose purpose, const mail::LetterValues& values,
                          const MailPolicy& policy, const Clock& clock, Random& random,
                          UnixSeconds expires_at, bool counts_toward_cap);

// A notice with no link of its own (`kind`: passkey_added, passkey_removed,
// passkeys_reset) naming `passkey`, queued in the caller's transaction. It
// does not count toward the hourly cap, and is dropped if it cannot be sent
// within a week.
void queue_notice(OutboxStore& outbox, const MailPolicy& policy, const Clock& clock, Random& random,
                  const User& user, LinkPurpose kind, std::string_view passkey);

}  // namespace authd
