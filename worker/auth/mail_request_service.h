#pragma once
// The mailer's half of resend and forgot: each queued request becomes a
// link and a message, or nothing (no such account, a disabled one, an
// email already verified, or the hourly cap reached). Run by `authd
// mailer`, never in a request, so the HTTP answer is the same one INSERT
// whatever the email.
#include "auth/mail_policy.h"
#include "ports/clock.h"
#include "ports/email_token_store.h"
#include "ports/outbox_store.h"
#include "ports/random.h"
#include "ports/transaction.h"
#include "ports/user_store.h"

namespace authd {

struct MailRequestDeps {
  UserStore& users;
  EmailTokenStore& email_tokens;
  OutboxStore& outbox;
  MailRequestStore& requests;
  TransactionRunner& transactions;
  const Clock& clock;
  Random& random;
};

class MailRequestService {
 public:
  enum class Outcome { none_pending, queued, no_account, disabled, already_verified, capped };

  MailRequestService(MailRequestDeps deps, MailPolicy policy)
      : deps_(deps), policy_(std::move(policy)) {}

  // Handles the oldest request no other mailer holds, in one transaction
  // (claimed, decided, deleted). The account's row is locked while its cap
  // is counted, so two mailers cannot both send the fifth message.
  Outcome fulfil_next();

 private:
  MailRequestDeps deps_;
  MailPolicy policy_;
};

const char* outcome_name(MailRequestService::Outcome outcome);

}  // namespace authd
