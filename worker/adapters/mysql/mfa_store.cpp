#include "adapters/mysql/mfa_store.h"

#include "ports/store_errors.h"

namespace authd::mysql {
namespace {

constexpr std::string_view kRead =
    "SELECT mfa_enabled_at, totp_secret_sealed, totp_pending_sealed, totp_last_step"
    " FROM users WHERE id = ?";
constexpr std::string_view kSetPending =
    "UPDATE users SET totp_pending_sealed = ? WHERE id = ? AND mfa_enabled_at IS NULL";
// Only the pending secret the code was checked against can be confirmed.
constexpr std::string_view kEnable =
    "UPDATE users SET mfa_enabled_at = ?, totp_secret_sealed = totp_pending_sealed,"
    " totp_pending_sealed = NULL, totp_last_step = ?"
    " WHERE id = ? AND mfa_enabled_at IS NULL AND totp_pending_sealed = ?";
constexpr std::string_view kAcceptStep =
    "UPDATE users SET totp_last_step = ? WHERE id = ? AND mfa_enabled_at IS NOT NULL"
    " AND (totp_last_step IS NULL OR totp_last_step < ?)";
constexpr std::string_view kDisable =
    "UPDATE users SET mfa_enabled_at = NULL, totp_secret_sealed = NULL,"
    " totp_pending_sealed = NULL, totp_last_step = NULL WHERE id = ?";
constexpr std::string_view kAnyEnabled =
    "SELECT 1 FROM users WHERE mfa_enabled_at IS NOT NULL LIMIT 1";
// A sealed value is of the current shape when it has its length and starts
// with its version byte; NULL is no value at all.
constexpr std::string_view kSealedNotShaped =
    "SELECT id, totp_secret_sealed, totp_pending_sealed FROM users WHERE id > ? AND ("
    " (totp_secret_sealed IS NOT NULL AND (LENGTH(totp_secret_sealed) <> ?"
    "   OR ASCII(totp_secret_sealed) <> ?))"
    " OR (totp_pending_sealed IS NOT NULL AND (LENGTH(totp_pending_sealed) <> ?"
    "   OR ASCII(totp_pending_sealed) <> ?)))"
    " ORDER BY id LIMIT ?";
constexpr std::string_view kReplaceSealed =
    "UPDATE users SET totp_secret_sealed = ?, totp_pending_sealed = ?"
    " WHERE id = ? AND totp_secret_sealed <=> ? AND totp_pending_sealed <=> ?";
constexpr std::string_view kDeleteCodes = "DELETE FROM mfa_recovery_codes WHERE user_id = ?";
constexpr std::string_view kInsertCode =
    "INSERT INTO mfa_recovery_codes (user_id, slot, code_hash) VALUES (?, ?, ?)";
constexpr std::string_view kUnusedCodes =
    "SELECT slot, code_hash FROM mfa_recovery_codes WHERE user_id = ? AND used_at IS NULL"
    " ORDER BY slot";
constexpr std::string_view kSpendCode =
    "UPDATE mfa_recovery_codes SET used_at = ? WHERE user_id = ? AND slot = ? AND used_at IS NULL";
constexpr std::string_view kInsertChallenge =
    "INSERT INTO mfa_challenges (token_hash, user_id, ip, created_at, expires_at)"
    " VALUES (?, ?, ?, ?, ?)";
constexpr std::string_view kFindChallenge =
    "SELECT token_hash, user_id, ip, created_at, expires_at, spent_at FROM mfa_challenges"
    " WHERE token_hash = ?";
constexpr std::string_view kSpendChallenge =
    "UPDATE mfa_challenges SET spent_at = ? WHERE token_hash = ? AND spent_at IS NULL";
constexpr std::string_view kVoidChallenges =
    "UPDATE mfa_challenges SET spent_at = ? WHERE user_id = ? AND spent_at IS NULL";
// Spent or expired challenges older than a day are of no use to anyone.
constexpr std::string_view kPurgeChallenges =
    "DELETE FROM mfa_challenges WHERE expires_at < ? LIMIT 50";

}  // namespace

// The reads that decide whether a second factor, a code or an mfa_token is
// good are causal (Connection::causal_query): what another cluster node
// committed (a factor turned off, a challenge spent) is seen here.
MfaState MysqlMfaStore::read(const Uuid& user_id) {
  const Rows rows = connection_.causal_query(kRead, {user_id.as_bytes()});
  MfaState state;
  if (rows.empty()) return state;
  const Row& row = rows.front();
  state.enabled_at = row.optional_time(0);
  state.enabled = state.enabled_at.has_value();
  state.secret_sealed = row.bytes_or_empty(1);
  state.pending_sealed = row.bytes_or_empty(2);
  if (!row.is_null(3)) state.last_step = row.int64(3);
  return state;
}

void MysqlMfaStore::set_pending(const Uuid& user_id, std::string_view sealed) {
  connection_.execute(kSetPending, {sealed, user_id.as_bytes()});
}

bool MysqlMfaStore::enable(const Uuid& user_id, std::string_view pending, std::int64_t step,
                           UnixSeconds now) {
  return connection_.execute(kEnable, {DateTime{now}, step, user_id.as_bytes(), pending}) == 1;
}

bool MysqlMfaStore::accept_step(const Uuid& user_id, std::int64_t step) {
  return connection_.execute(kAcceptStep, {step, user_id.as_bytes(), step}) == 1;
}

void MysqlMfaStore::disable(const Uuid& user_id, UnixSeconds now) {
  connection_.execute(kDisable, {user_id.as_bytes()});
  connection_.execute(kDeleteCodes, {user_id.as_bytes()});
  void_challenges(user_id, now);
}

bool MysqlMfaStore::any_enabled() {
  return !connection_.query(kAnyEnabled).empty();
}

std::vector<SealedTotp> MysqlMfaStore::sealed_not_shaped(const Uuid& after, std::size_t size,
                                                         unsigned char version, unsigned limit) {
  const auto length = static_cast<std::int64_t>(size);
  const auto first = static_cast<std::int64_t>(version);
  std::vector<SealedTotp> out;
  for (const Row& row : connection_.query(kSealedNotShaped, {after.as_bytes(), length, first,
                                                             length, first, std::int64_t{limit}})) {
    auto id = Uuid::from_bytes(row.bytes(0));
    if (!id) throw StoreError("mysql: a users id is not 16 bytes");
    out.push_back({*id, row.bytes_or_empty(1), row.bytes_or_empty(2)});
  }
  return out;
}

bool MysqlMfaStore::replace_sealed(const SealedTotp& before, const SealedTotp& after) {
  const auto value = [](const std::string& sealed) -> Param {
    if (sealed.empty()) return nullptr;
    return std::string_view(sealed);
  };
  return connection_.execute(
             kReplaceSealed,
             {value(after.secret_sealed), value(after.pending_sealed), before.user_id.as_bytes(),
              value(before.secret_sealed), value(before.pending_sealed)}) == 1;
}

void MysqlMfaStore::replace_recovery_codes(const Uuid& user_id,
                                           const std::vector<std::string>& hashes) {
  connection_.execute(kDeleteCodes, {user_id.as_bytes()});
  std::int64_t slot = 0;
  for (const auto& hash : hashes) {
    connection_.execute(kInsertCode, {user_id.as_bytes(), slot++, std::string_view(hash)});
  }
}

std::vector<RecoveryCode> MysqlMfaStore::unused_recovery_codes(const Uuid& user_id) {
  std::vector<RecoveryCode> out;
  for (const Row& row : connection_.causal_query(kUnusedCodes, {user_id.as_bytes()})) {
    out.push_back({static_cast<unsigned>(row.int64(0)), row.bytes(1)});
  }
  return out;
}

bool MysqlMfaStore::spend_recovery_code(const Uuid& user_id, unsigned slot, UnixSeconds now) {
  return connection_.execute(
             kSpendCode, {DateTime{now}, user_id.as_bytes(), static_cast<std::int64_t>(slot)}) == 1;
}

void MysqlMfaStore::insert_challenge(const MfaChallenge& c) {
  connection_.execute(kPurgeChallenges, {DateTime{c.created_at - 86400}});
  connection_.execute(kInsertChallenge,
                      {std::string_view(c.token_hash), c.user_id.as_bytes(), std::string_view(c.ip),
                       DateTime{c.created_at}, DateTime{c.expires_at}});
}

std::optional<MfaChallenge> MysqlMfaStore::find_challenge(std::string_view token_hash) {
  const Rows rows = connection_.causal_query(kFindChallenge, {token_hash});
  if (rows.empty()) return std::nullopt;
  const Row& row = rows.front();
  MfaChallenge c;
  c.token_hash = row.bytes(0);
  auto id = Uuid::from_bytes(row.bytes(1));
  if (!id) throw StoreError("mysql: an mfa_challenges user_id is not 16 bytes");
  c.user_id = *id;
  c.ip = row.bytes(2);
  c.created_at = row.time(3);
  c.expires_at = row.time(4);
  c.spent_at = row.optional_time(5);
  return c;
}

bool MysqlMfaStore::spend_challenge(std::string_view token_hash, UnixSeconds now) {
  return connection_.execute(kSpendChallenge, {DateTime{now}, token_hash}) == 1;
}

void MysqlMfaStore::void_challenges(const Uuid& user_id, UnixSeconds now) {
  connection_.execute(kVoidChallenges, {DateTime{now}, user_id.as_bytes()});
}

}  // namespace authd::mysql
