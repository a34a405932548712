#include "mail/outbox_mailer.h"

#include "log/log.h"
#include "mail/backoff.h"

namespace authd::mail {

OutboxMailer::Step OutboxMailer::deliver_one() {
  Step step = Step::none_due;
  std::optional<OutboxDelivery::Pending> claimed;
  // 1. Claim, and commit the claim before anything is sent. On a cluster two
  //    mailers on two nodes may both pick this row (SKIP LOCKED is
  //    node-local): one claim commits, the other fails certification, runs
  //    again and finds the row leased. Only the mailer whose claim committed
  //    talks to the relay.
  transactions_.in_transaction([&] {
    step = Step::none_due;
    claimed.reset();
    const UnixSeconds now = clock_.now();
    auto pending = outbox_.claim_next_due(now);
    if (!pending) return;
    if (now >= pending->expires_at) {
      // Its link no longer works (or a notice is days late): sending it
      // would only confuse.
      outbox_.mark_abandoned(pending->id, now);
      step = Step::abandoned;
    } else {
      outbox_.lease(pending->id, now + kSendLeaseS);
      step = Step::sent;  // to be sent: settled below
    }
    claimed = std::move(pending);
  });
  if (!claimed) return Step::none_due;
  const std::int64_t id = claimed->id;
  const std::string user_id = claimed->user_id ? claimed->user_id->to_string() : std::string();
  const std::string kind(mail_kind_name(claimed->kind));
  const unsigned attempt = claimed->attempts + 1;
  SendResult result;
  if (step == Step::sent) {
    // 2. Send, outside any transaction. 3. Record what happened (one
    //    statement each). Dying between 2 and 3 leaves the lease to run
    //    out: the message is sent again then, as a crash always allowed.
    result = transport_.send(envelope_from_, claimed->recipient, claimed->message);
    if (result.ok()) {
      outbox_.mark_sent(id, clock_.now());
    } else {
      outbox_.mark_retry(id, clock_.now() + retry_delay_seconds(attempt), result.detail);
      step = result.status == SendResult::Status::unavailable ? Step::unavailable : Step::failed;
    }
  }
  switch (step) {
    case Step::none_due:
      break;
    case Step::sent:
      log::info("mail_sent", {{"outbox_id", id},
                              {"kind", kind},
                              log::Field::optional("user_id", user_id),
                              {"attempt", static_cast<std::int64_t>(attempt)}});
      break;
    case Step::abandoned:
      log::warn("mail_abandoned", {{"outbox_id", id},
                                   {"kind", kind},
                                   log::Field::optional("user_id", user_id),
                                   {"reason", "link expired before delivery"}});
      break;
    case Step::failed:
    case Step::unavailable:
      log::warn("mail_failed", {{"outbox_id", id},
                                {"kind", kind},
                                log::Field::optional("user_id", user_id),
                                {"attempt", static_cast<std::int64_t>(attempt)},
                                {"retry_in_s", retry_delay_seconds(attempt)},
                                {"error", result.detail}});
      break;
  }
  return step;
}

DeliveryReport OutboxMailer::deliver_due(unsigned limit, const std::function<bool()>& keep_going) {
  DeliveryReport report;
  if (ready_at_ms_ != 0 && clock_.now_ms() < ready_at_ms_) {
    report.transport_unavailable = true;
    return report;
  }
  for (unsigned i = 0; i < limit && keep_going(); ++i) {
    const Step step = deliver_one();
    if (step == Step::none_due) break;
    if (step == Step::sent) {
      ++report.sent;
      relay_failures_ = 0;
      ready_at_ms_ = 0;
    } else if (step == Step::abandoned) {
      ++report.abandoned;
    } else {
      ++report.failed;
      transport_.close_connection();
      if (step == Step::unavailable) {
        // The relay is away: wait before the next attempt, whichever
        // message it is for, doubling up to 60 s.
        ++relay_failures_;
        ready_at_ms_ = clock_.now_ms() + retry_delay_seconds(relay_failures_) * 1000;
        report.transport_unavailable = true;
        break;
      }
    }
  }
  return report;
}

}  // namespace authd::mail
