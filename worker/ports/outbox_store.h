#pragma once
// The outbox: messages written by the use cases, sent later by the mailer
// (`authd mailer`), never by a request. And the queue of resend/forgot
// requests, which the mailer turns into messages.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ports/clock.h"
#include "ports/email_token_store.h"
#include "ports/uuid.h"

namespace authd {

struct OutgoingMail {
  Uuid user_id;
  LinkPurpose kind = LinkPurpose::verify_email;
  std::string recipient;  // the address, as in the RCPT TO
  std::string message;    // the whole RFC 5322 message, CRLF line ends
  bool counts_toward_cap = false;
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;  // the link's end: no use sending it after
};

// What the use cases need: write a message, count for the cap.
class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  virtual void enqueue(const OutgoingMail& mail) = 0;
  // Messages that count toward the per-account cap, created after `since`
  // (the rolling hour: since = now - 3600).
  virtual unsigned count_capped_since(const Uuid& user_id, UnixSeconds since) = 0;
};

// What the mailer needs: take the next due message, record what happened.
// A message is claimed in a transaction of its own (claim_next_due, then
// lease: it is not due again before the lease ends), and sent only after
// that commits: on a cluster two mailers on two nodes may pick the same row
// (SKIP LOCKED is node-local), and only one claim commits (the other fails
// certification, runs again and finds the row leased). The outcome is
// recorded afterwards (mark_*). A mailer that dies mid-send leaves the lease
// to run out: the message is sent again then (at least once).
class OutboxDelivery {
 public:
  virtual ~OutboxDelivery() = default;

  struct Pending {
    std::int64_t id = 0;
    Uuid user_id;
    LinkPurpose kind = LinkPurpose::verify_email;
    std::string recipient;
    std::string message;
    unsigned attempts = 0;  // failed attempts so far
    UnixSeconds created_at = 0;
    UnixSeconds expires_at = 0;
  };

  // Inside a transaction: the next due message no other mailer holds, locked.
  virtual std::optional<Pending> claim_next_due(UnixSeconds now) = 0;
  // Not due for any mailer before `until` (the sending mailer's time).
  virtual void lease(std::int64_t id, UnixSeconds until) = 0;
  // Sent: the message text is erased (its link's token goes with it). A
  // message finished meanwhile (a lease that ran out, another mailer) stays
  // as it is.
  virtual void mark_sent(std::int64_t id, UnixSeconds now) = 0;
  // Failed: counted, tried again from `next_attempt_at`. `error` is a short
  // description with no message content.
  virtual void mark_retry(std::int64_t id, UnixSeconds next_attempt_at, std::string_view error) = 0;
  // Its link expired before it could be delivered: erased, never sent.
  virtual void mark_abandoned(std::int64_t id, UnixSeconds now) = 0;
  // Housekeeping: finished rows older than `before`. Returns rows removed.
  virtual int purge_finished(UnixSeconds before) = 0;
};

struct MailRequest {
  std::int64_t id = 0;
  LinkPurpose kind = LinkPurpose::verify_email;
  std::string email;  // normalised as typed; not necessarily an account's
  UnixSeconds requested_at = 0;
};

class MailRequestStore {
 public:
  virtual ~MailRequestStore() = default;

  virtual void add(LinkPurpose kind, std::string_view email, UnixSeconds now) = 0;
  // Inside a transaction: the oldest request no other mailer holds, locked.
  virtual std::optional<MailRequest> claim_next() = 0;
  virtual void remove(std::int64_t id) = 0;
};

}  // namespace authd
