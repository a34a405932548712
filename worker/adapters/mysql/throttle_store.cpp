#include "adapters/mysql/throttle_store.h"

#include <sodium.h>

#include "adapters/mysql/transaction_runner.h"
#include "log/log.h"
#include "ports/store_errors.h"

namespace authd::mysql {
namespace {

constexpr std::string_view kRead =
    "SELECT ip, failures, last_failure_at, blocked_until FROM login_throttle"
    " WHERE email_hash = ? AND ip IN (?, '')";
constexpr std::string_view kReadForUpdate =
    "SELECT ip, failures, last_failure_at, blocked_until FROM login_throttle"
    " WHERE email_hash = ? AND ip IN (?, '') FOR UPDATE";
// Both rows exist and are locked, in one statement that opens the
// transaction, so workers recording a failure for the same email queue on
// the same rows and each sees the ones counted before it. In key order (the
// email row, ip '', first). An upsert, not INSERT IGNORE: on a duplicate it
// takes the exclusive lock at once, where IGNORE takes a shared one that the
// FOR UPDATE below would have to upgrade (several workers holding it then
// deadlock waiting for each other's). Inside the transaction, not before it
// in a statement of its own: one commit per attempt instead of two, which is
// a durable write (a disk flush) fewer on every login (`make bench`).
constexpr std::string_view kLockRows =
    "INSERT INTO login_throttle (email_hash, ip, failures, last_failure_at)"
    " VALUES (?, '', 0, ?), (?, ?, 0, ?) ON DUPLICATE KEY UPDATE failures = failures";
// Written under the rows' lock, as an upsert: a row is locked by kLockRows
// in this transaction, so no purge can take it before this write; the upsert
// stays as a guard (a plain UPDATE of a row that is gone would lose the
// failure without a word).
constexpr std::string_view kWrite =
    "INSERT INTO login_throttle (email_hash, ip, failures, last_failure_at, blocked_until)"
    " VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE failures = VALUES(failures),"
    " last_failure_at = VALUES(last_failure_at), blocked_until = VALUES(blocked_until)";
constexpr std::string_view kClear =
    "DELETE FROM login_throttle WHERE email_hash = ? AND ip IN (?, '')";
constexpr std::string_view kClearAll = "DELETE FROM login_throttle WHERE email_hash = ?";
// Counters forgotten for an hour and no longer blocking are dead weight.
// (A purge that finds nothing writes nothing: one round trip, no commit.)
constexpr UnixSeconds kRetainSeconds = 86400;
constexpr std::string_view kPurge =
    "DELETE FROM login_throttle WHERE last_failure_at < ?"
    " AND (blocked_until IS NULL OR blocked_until < ?) LIMIT 50";

ThrottleCounter counter_from(const Row& row) {
  ThrottleCounter c;
  c.failures = static_cast<unsigned>(row.int64(1));
  c.last_failure_at = row.time(2);
  c.blocked_until = row.optional_time(3).value_or(0);
  return c;
}

ThrottleStore::Counters counters_from(const Rows& rows) {
  ThrottleStore::Counters counters;
  for (const Row& row : rows) {
    if (row.bytes(0).empty()) {
      counters.email = counter_from(row);
    } else {
      counters.pair = counter_from(row);
    }
  }
  return counters;
}

Param blocked_param(const ThrottleCounter& c) {
  if (c.blocked_until == 0) return nullptr;
  return DateTime{c.blocked_until};
}

}  // namespace

std::string throttle_email_key(std::string_view email) {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                     reinterpret_cast<const unsigned char*>(email.data()), email.size());
  return digest;
}

ThrottleStore::Counters MysqlThrottleStore::read(std::string_view email, std::string_view ip) {
  const std::string key = throttle_email_key(email);
  return counters_from(connection_.query(kRead, {std::string_view(key), ip}));
}

void MysqlThrottleStore::record_failure(std::string_view email, std::string_view ip,
                                        const std::function<Counters(const Counters&)>& update) {
  const std::string key = throttle_email_key(email);
  const std::string_view k = key;
  // A placeholder time for brand-new rows; the update sets the real one.
  const DateTime epoch{0};
  UnixSeconds now = 0;
  // Through the runner: two workers on two cluster nodes bumping the same
  // counters conflict at certification, a deadlock victim on one server
  // likewise, and the loser counts again on the winner's numbers (re-read
  // under the lock). A failure that cannot be recorded ends as
  // StoreUnavailable: a 503, never a 401 that went uncounted.
  MysqlTransactionRunner(connection_).in_transaction([&] {
    connection_.execute(kLockRows, {k, epoch, k, ip, epoch});
    const Counters before = counters_from(connection_.query(kReadForUpdate, {k, ip}));
    const Counters after = update(before);
    now = after.pair.last_failure_at;
    connection_.execute(kWrite, {k, ip, static_cast<std::int64_t>(after.pair.failures),
                                 DateTime{after.pair.last_failure_at}, blocked_param(after.pair)});
    connection_.execute(kWrite,
                        {k, std::string_view(), static_cast<std::int64_t>(after.email.failures),
                         DateTime{after.email.last_failure_at}, blocked_param(after.email)});
  });
  // Housekeeping, after the commit: its failure (a lock wait with another
  // worker's purge, a lost connection) must not turn the failure just
  // recorded into an error answer; the next failure purges instead.
  try {
    connection_.execute(kPurge, {DateTime{now - kRetainSeconds}, DateTime{now}});
  } catch (const std::exception& e) {
    log::warn("throttle_purge_failed", {{"error", e.what()}});
  }
}

void MysqlThrottleStore::clear(std::string_view email, std::string_view ip) {
  const std::string key = throttle_email_key(email);
  connection_.execute(kClear, {std::string_view(key), ip});
}

int MysqlThrottleStore::clear_all(std::string_view email) {
  const std::string key = throttle_email_key(email);
  return static_cast<int>(connection_.execute(kClearAll, {std::string_view(key)}));
}

}  // namespace authd::mysql
