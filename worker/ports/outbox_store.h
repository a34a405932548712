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

// What a message is: its template, and the `kind` stored with it. The link
// messages are named after their purpose; an invitation carries a reset
// link with its own text. The notices carry no link: a way in was added or
// removed (the passkey kinds: ASVS 5.0 6.3.7), or the account was closed.
enum class MailKind {
  verify_email,
  reset_password,
  invite,
  account_closed,
  passkey_added,
  passkey_removed,
  passkeys_reset
};

inline constexpr MailKind kAllMailKinds[] = {MailKind::verify_email,  MailKind::reset_password,
                                             MailKind::invite,        MailKind::account_closed,
                                             MailKind::passkey_added, MailKind::passkey_removed,
                                             MailKind::passkeys_reset};

std::string_view mail_kind_name(MailKind kind);
std::optional<MailKind> mail_kind_from_name(std::string_view name);
// The message that carries a link of `purpose` (resend, forgot).
MailKind mail_kind_for(LinkPurpose purpose);

struct OutgoingMail {
  // The account it is about; none for the notice of a closed account, which
  // outlives the account and names none.
  std::optional<Uuid> user_id;
  MailKind kind = MailKind::verify_email;
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
    std::optional<Uuid> user_id;
    MailKind kind = MailKind::verify_email;
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
  // as it is. A message that names no account (a closed account's notice)
  // is deleted, here and when abandoned: nothing of the account stays behind.
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

  // One pending request per (kind, email): a request already pending stays
  // where it is in the queue (a repeat adds nothing). A new one is
  // dropped when `max_pending` requests are pending already, so a flood of
  // resend/forgot can neither grow the table without bound nor delay a real
  // request by more than a queue's worth (finding 13 of issue 17). True
  // when a new request was queued.
  virtual bool add(LinkPurpose kind, std::string_view email, UnixSeconds now,
                   unsigned max_pending) = 0;
  // Inside a transaction: the oldest request no other mailer holds, locked.
  virtual std::optional<MailRequest> claim_next() = 0;
  virtual void remove(std::int64_t id) = 0;
};

}  // namespace authd
