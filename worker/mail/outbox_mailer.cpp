#include "mail/outbox_mailer.h"

#include "log/log.h"
#include "mail/backoff.h"

namespace authd::mail {

OutboxMailer::Step OutboxMailer::deliver_one() {
  Step step = Step::none_due;
  std::int64_t id = 0;
  std::string user_id;
  std::string kind;
  unsigned attempt = 0;
  SendResult result;
  transactions_.in_transaction([&] {
    step = Step::none_due;
    const UnixSeconds now = clock_.now();
    auto pending = outbox_.claim_next_due(now);
    if (!pending) return;
    id = pending->id;
    user_id = pending->user_id ? pending->user_id->to_string() : std::string();
    kind = std::string(mail_kind_name(pending->kind));
    attempt = pending->attempts + 1;
    if (now >= pending->expires_at) {
      // Its link no longer works (or a notice is days late): sending it
      // would only confuse.
      outbox_.mark_abandoned(id, now);
      step = Step::abandoned;
      return;
    }
    // The row stays locked while the relay is talked to: another mailer
    // skips it, and if this process dies the lock goes with its connection.
    result = transport_.send(envelope_from_, pending->recipient, pending->message);
    if (result.ok()) {
      outbox_.mark_sent(id, clock_.now());
      step = Step::sent;
      return;
    }
    const UnixSeconds retry_at = clock_.now() + retry_delay_seconds(attempt);
    outbox_.mark_retry(id, retry_at, result.detail);
    step = result.status == SendResult::Status::unavailable ? Step::unavailable : Step::failed;
  });
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
