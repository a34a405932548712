#pragma once
// Delivers the outbox, one message at a time: a transaction claims it (SKIP
// LOCKED, then a lease of kSendLeaseS) and commits; only then is it sent,
// and the outcome recorded. So of two mailers, on one database server or on
// two nodes of a cluster, only the one whose claim committed sends it. A
// crash at any moment leaves each message either marked sent or pending (at
// once, or when the lease runs out) for the next try: at least once, and
// sent exactly once as far as the database is concerned.
#include <cstdint>
#include <functional>
#include <string>

#include "ports/clock.h"
#include "ports/mail_transport.h"
#include "ports/outbox_store.h"
#include "ports/transaction.h"

namespace authd::mail {

// How long a claimed message is not due for any other mailer: longer than
// any send may take (CurlSmtpTransport gives up after 20 s), so a slow relay
// never gets the message from two mailers; and what a message claimed by a
// mailer that died mid-send waits before another sends it.
inline constexpr UnixSeconds kSendLeaseS = 30;

struct DeliveryReport {
  int sent = 0;
  int failed = 0;
  int abandoned = 0;
  bool transport_unavailable = false;  // the batch stopped: the relay is away
};

class OutboxMailer {
 public:
  OutboxMailer(OutboxDelivery& outbox, TransactionRunner& transactions, MailTransport& transport,
               const Clock& clock, std::string envelope_from)
      : outbox_(outbox),
        transactions_(transactions),
        transport_(transport),
        clock_(clock),
        envelope_from_(std::move(envelope_from)) {}

  // Sends due messages until none is due, `limit` were handled,
  // `keep_going` says stop, or the relay is away. While the relay is away,
  // nothing is tried before the backoff has passed (ready_at_ms).
  DeliveryReport deliver_due(unsigned limit, const std::function<bool()>& keep_going);

  // When the next attempt may be made after the relay was away (ms since
  // the epoch); 0 when it was not.
  std::int64_t ready_at_ms() const { return ready_at_ms_; }

 private:
  enum class Step { none_due, sent, failed, abandoned, unavailable };
  Step deliver_one();

  OutboxDelivery& outbox_;
  TransactionRunner& transactions_;
  MailTransport& transport_;
  const Clock& clock_;
  std::string envelope_from_;
  unsigned relay_failures_ = 0;  // in a row, for the backoff
  std::int64_t ready_at_ms_ = 0;
};

}  // namespace authd::mail
