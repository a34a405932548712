#include "adapters/mysql/outbox_store.h"

#include "log/log.h"
#include "ports/store_errors.h"

namespace authd::mysql {
namespace {

constexpr std::int64_t kSent = 1;
constexpr std::int64_t kAbandoned = 2;

constexpr std::string_view kEnqueue =
    "INSERT INTO mail_outbox (user_id, kind, recipient, message, counts_toward_cap, state,"
    " created_at, expires_at, next_attempt_at, attempts) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, 0)";
constexpr std::string_view kCountCapped =
    "SELECT COUNT(*) FROM mail_outbox WHERE user_id = ? AND counts_toward_cap = 1"
    " AND created_at > ?";
// The connection runs READ COMMITTED: the locking read locks the one row it
// returns (no gap locks, so registrations inserting new rows never wait),
// and SKIP LOCKED passes over rows another mailer holds (MariaDB 10.6+,
// MySQL 8.0+).
constexpr std::string_view kClaimNextDue =
    "SELECT id, user_id, kind, recipient, message, attempts, created_at, expires_at"
    " FROM mail_outbox WHERE state = 0 AND next_attempt_at <= ?"
    " ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED";
constexpr std::string_view kLease =
    "UPDATE mail_outbox SET next_attempt_at = ? WHERE id = ? AND state = 0";
constexpr std::string_view kFinish =
    "UPDATE mail_outbox SET state = ?, message = NULL, finished_at = ? WHERE id = ? AND state = 0";
constexpr std::string_view kRetry =
    "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
    " WHERE id = ? AND state = 0";
// A finished message that names no account (a closed account's notice) is
// not kept for the cap count: it goes at once.
constexpr std::string_view kDeleteAnonymous =
    "DELETE FROM mail_outbox WHERE id = ? AND user_id IS NULL";
constexpr std::string_view kPurgeFinished =
    "DELETE FROM mail_outbox WHERE state <> 0 AND finished_at < ? LIMIT 500";

// The unique key (kind, email) makes a repeat a no-op; the count bounds the
// queue (a scan of at most max_pending index entries). IGNORE rather than
// ON DUPLICATE KEY UPDATE: the connection counts found rows
// (CLIENT_FOUND_ROWS), so an upsert that changes nothing would report 1
// like an insert. What else IGNORE would downgrade cannot happen here: the
// kind is one of two names, the email is at most 254 bytes (checked before).
constexpr std::string_view kAddRequest =
    "INSERT IGNORE INTO mail_requests (kind, email, requested_at)"
    " SELECT ?, ?, ? FROM DUAL WHERE (SELECT COUNT(*) FROM mail_requests) < ?";
constexpr std::string_view kClaimRequest =
    "SELECT id, kind, email, requested_at FROM mail_requests ORDER BY id LIMIT 1"
    " FOR UPDATE SKIP LOCKED";
constexpr std::string_view kRemoveRequest = "DELETE FROM mail_requests WHERE id = ?";

constexpr std::size_t kErrorColumnBytes = 255;

LinkPurpose purpose_from(const Row& row, std::size_t column) {
  auto purpose = purpose_from_name(row.bytes(column));
  if (!purpose) throw StoreError("mysql: a mail request kind is not one this server knows");
  return *purpose;
}

MailKind kind_from(const Row& row, std::size_t column) {
  auto kind = mail_kind_from_name(row.bytes(column));
  if (!kind) throw StoreError("mysql: a mail kind is not one this server knows");
  return *kind;
}

void finish(Connection& connection, std::int64_t state, std::int64_t id, UnixSeconds now) {
  if (connection.execute(kFinish, {state, DateTime{now}, id}) != 1) {
    // Finished meanwhile: this mailer's lease ran out (a send slower than
    // the lease) and another one sent it too. Nothing to undo.
    log::warn("mail_already_finished", {{"outbox_id", id}});
  }
  connection.execute(kDeleteAnonymous, {id});
}

}  // namespace

void MysqlOutboxStore::enqueue(const OutgoingMail& mail) {
  connection_.execute(
      kEnqueue,
      {mail.user_id ? Param(mail.user_id->as_bytes()) : Param(nullptr), mail_kind_name(mail.kind),
       mail.recipient, mail.message, std::int64_t{mail.counts_toward_cap ? 1 : 0},
       DateTime{mail.created_at}, DateTime{mail.expires_at}, DateTime{mail.created_at}});
}

unsigned MysqlOutboxStore::count_capped_since(const Uuid& user_id, UnixSeconds since) {
  const Rows rows = connection_.query(kCountCapped, {user_id.as_bytes(), DateTime{since}});
  return static_cast<unsigned>(rows.at(0).int64(0));
}

std::optional<OutboxDelivery::Pending> MysqlOutboxStore::claim_next_due(UnixSeconds now) {
  // Causal: a lease committed through another node is seen here.
  const Rows rows = connection_.causal_query(kClaimNextDue, {DateTime{now}});
  if (rows.empty()) return std::nullopt;
  const Row& row = rows.front();
  Pending p;
  p.id = row.int64(0);
  if (!row.is_null(1)) {
    auto user = Uuid::from_bytes(row.bytes(1));
    if (!user) throw StoreError("mysql: a mail_outbox user_id is not 16 bytes");
    p.user_id = *user;
  }
  p.kind = kind_from(row, 2);
  p.recipient = row.bytes(3);
  p.message = row.bytes_or_empty(4);
  p.attempts = static_cast<unsigned>(row.int64(5));
  p.created_at = row.time(6);
  p.expires_at = row.time(7);
  return p;
}

void MysqlOutboxStore::lease(std::int64_t id, UnixSeconds until) {
  connection_.execute(kLease, {DateTime{until}, id});
}

void MysqlOutboxStore::mark_sent(std::int64_t id, UnixSeconds now) {
  finish(connection_, kSent, id, now);
}

void MysqlOutboxStore::mark_retry(std::int64_t id, UnixSeconds next_attempt_at,
                                  std::string_view error) {
  connection_.execute(kRetry, {DateTime{next_attempt_at}, error.substr(0, kErrorColumnBytes), id});
}

void MysqlOutboxStore::mark_abandoned(std::int64_t id, UnixSeconds now) {
  finish(connection_, kAbandoned, id, now);
}

int MysqlOutboxStore::purge_finished(UnixSeconds before) {
  return static_cast<int>(connection_.execute(kPurgeFinished, {DateTime{before}}));
}

bool MysqlMailRequestStore::add(LinkPurpose kind, std::string_view email, UnixSeconds now,
                                unsigned max_pending) {
  return connection_.execute(kAddRequest, {purpose_name(kind), email, DateTime{now},
                                           std::int64_t{max_pending}}) == 1;
}

std::optional<MailRequest> MysqlMailRequestStore::claim_next() {
  const Rows rows = connection_.causal_query(kClaimRequest);
  if (rows.empty()) return std::nullopt;
  const Row& row = rows.front();
  MailRequest request;
  request.id = row.int64(0);
  request.kind = purpose_from(row, 1);
  request.email = row.bytes(2);
  request.requested_at = row.time(3);
  return request;
}

void MysqlMailRequestStore::remove(std::int64_t id) {
  connection_.execute(kRemoveRequest, {id});
}

}  // namespace authd::mysql
