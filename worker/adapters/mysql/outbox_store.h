#pragma once
#include "adapters/mysql/connection.h"
#include "ports/outbox_store.h"

namespace authd::mysql {

// The `mail_outbox` table (sql/003): the use cases' side (enqueue, count)
// and the mailer's (claim, mark).
class MysqlOutboxStore final : public OutboxStore, public OutboxDelivery {
 public:
  explicit MysqlOutboxStore(Connection& connection) : connection_(connection) {}

  void enqueue(const OutgoingMail& mail) override;
  unsigned count_capped_since(const Uuid& user_id, UnixSeconds since) override;

  std::optional<Pending> claim_next_due(UnixSeconds now) override;
  void lease(std::int64_t id, UnixSeconds until) override;
  void mark_sent(std::int64_t id, UnixSeconds now) override;
  void mark_retry(std::int64_t id, UnixSeconds next_attempt_at, std::string_view error) override;
  void mark_abandoned(std::int64_t id, UnixSeconds now) override;
  int purge_finished(UnixSeconds before) override;

 private:
  Connection& connection_;
};

// The `mail_requests` table (sql/003): resend and forgot, as they arrived.
class MysqlMailRequestStore final : public MailRequestStore {
 public:
  explicit MysqlMailRequestStore(Connection& connection) : connection_(connection) {}

  bool add(LinkPurpose kind, std::string_view email, UnixSeconds now,
           unsigned max_pending) override;
  std::optional<MailRequest> claim_next() override;
  void remove(std::int64_t id) override;

 private:
  Connection& connection_;
};

}  // namespace authd::mysql
