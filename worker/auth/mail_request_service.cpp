#include "auth/mail_request_service.h"

#include "auth/link_issuer.h"
#include "log/log.h"

namespace authd {

const char* outcome_name(MailRequestService::Outcome outcome) {
  using O = MailRequestService::Outcome;
  switch (outcome) {
    case O::none_pending:
      return "none_pending";
    case O::queued:
      return "queued";
    case O::no_account:
      return "no_account";
    case O::disabled:
      return "disabled";
    case O::already_verified:
      return "already_verified";
    case O::capped:
      return "capped";
  }
  return "unknown";
}

MailRequestService::Outcome MailRequestService::fulfil_next() {
  Outcome outcome = Outcome::none_pending;
  LinkPurpose kind = LinkPurpose::verify_email;
  std::string user_id;
  deps_.transactions.in_transaction([&] {
    outcome = Outcome::none_pending;
    user_id.clear();
    auto request = deps_.requests.claim_next();
    if (!request) return;
    kind = request->kind;
    deps_.requests.remove(request->id);
    auto user = deps_.users.find_by_email_for_update(request->email);
    if (!user) {
      outcome = Outcome::no_account;
      return;
    }
    user_id = user->id.to_string();
    const UnixSeconds now = deps_.clock.now();
    if (user->disabled_at) {
      outcome = Outcome::disabled;
    } else if (kind == LinkPurpose::verify_email && user->email_verified_at) {
      outcome = Outcome::already_verified;
    } else if (deps_.outbox.count_capped_since(user->id, now - 3600) >= policy_.cap_per_hour) {
      outcome = Outcome::capped;
    } else {
      LinkIssuer(deps_.email_tokens, deps_.outbox, deps_.clock, deps_.random, policy_)
          .issue(*user, kind, /*counts_toward_cap=*/true);
      outcome = Outcome::queued;
    }
  });
  if (outcome != Outcome::none_pending) {
    log::audit("mail_request", {{"kind", purpose_name(kind)},
                                {"outcome", outcome_name(outcome)},
                                log::Field::optional("user_id", user_id)});
  }
  return outcome;
}

}  // namespace authd
