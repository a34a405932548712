#include "adapters/mysql/session_store.h"

#include "adapters/mysql/user_store.h"
#include "ports/store_errors.h"

namespace authd::mysql {
namespace {

// The SELECT lists the columns in the order session_from() reads them.
constexpr std::string_view kInsert =
    "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, auth_time,"
    " revoked_at, amr, user_agent, ip, refresh_hash, prev_refresh_hash, next_refresh_sealed,"
    " rotated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
#define AUTHD_SESSION_COLUMNS                                                             \
  "SELECT id, user_id, created_at, last_used_at, expires_at, auth_time, revoked_at, amr," \
  " user_agent, ip, refresh_hash, prev_refresh_hash, next_refresh_sealed, rotated_at"     \
  " FROM sessions "
constexpr std::string_view kFind = AUTHD_SESSION_COLUMNS "WHERE id = ?";
// Locks the row until the transaction ends: refreshes of one session queue.
constexpr std::string_view kFindForUpdate = AUTHD_SESSION_COLUMNS "WHERE id = ? FOR UPDATE";
// Live: not revoked, before the absolute end, used within the idle lifetime.
// Most recently used first; ties: the newer (UUIDv7 ids sort by creation).
constexpr std::string_view kListLive = AUTHD_SESSION_COLUMNS
    "WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND last_used_at > ?"
    " ORDER BY last_used_at DESC, id DESC";
#undef AUTHD_SESSION_COLUMNS
// GET /auth/me in one round trip: the session's columns as above, then the
// user's as the users SELECTs list them (user_from_row reads them from
// column 14 on), then how many passkeys the user has (the passkeys index by
// user). The rows by primary key. A second statement for the count cost
// /auth/me a third of its throughput (`make bench`).
constexpr std::string_view kFindWithUser =
    "SELECT s.id, s.user_id, s.created_at, s.last_used_at, s.expires_at, s.auth_time,"
    " s.revoked_at, s.amr, s.user_agent, s.ip, s.refresh_hash, s.prev_refresh_hash,"
    " s.next_refresh_sealed, s.rotated_at,"
    " u.id, u.email, u.password_hash, u.created_at, u.password_changed_at, u.disabled_at,"
    " u.email_verified_at, u.mfa_enabled_at IS NOT NULL, u.last_login_at,"
    " (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.id)"
    " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?";
constexpr std::size_t kSessionColumnCount = 14;
constexpr std::size_t kPasskeyCountColumn = kSessionColumnCount + 9;
constexpr std::string_view kRevoke =
    "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL";
// The session cap, checked at every login: the ids of the live sessions
// only, most recently used first (ties: the newer), and those beyond the cap
// ended by id. A plain read, then row locks by primary key only: an UPDATE
// ordering the user's live rows itself locked a range and deadlocked with
// concurrent logins of the same account.
constexpr std::string_view kListLiveIds =
    "SELECT id FROM sessions"
    " WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND last_used_at > ?"
    " ORDER BY last_used_at DESC, id DESC";
constexpr std::string_view kRotate =
    "UPDATE sessions SET prev_refresh_hash = ?, refresh_hash = ?, next_refresh_sealed = ?,"
    " rotated_at = ?, last_used_at = ? WHERE id = ?";
constexpr std::string_view kRecordSpent =
    "INSERT INTO refresh_token_history (token_hash, session_id, spent_at) VALUES (?, ?, ?)";
constexpr std::string_view kWasSpent =
    "SELECT 1 FROM refresh_token_history WHERE token_hash = ? AND session_id = ?";
constexpr std::string_view kRevokeAll =
    "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL";
constexpr std::string_view kRevokeAllBut =
    "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id <> ?";

// The user agent is informational and client-chosen: keep what fits the
// column rather than fail a login over a long header.
constexpr std::size_t kUserAgentColumnBytes = 512;

// The digest columns are NULL when there is no digest ("" in the record):
// an empty BINARY(32) would be 32 zero bytes, and all such rows would
// collide on the unique refresh_hash key.
Param bytes_or_null(std::string_view bytes) {
  if (bytes.empty()) return nullptr;
  return bytes;
}

Uuid uuid_from(const Row& row, std::size_t column) {
  auto id = Uuid::from_bytes(row.bytes(column));
  if (!id) throw StoreError("mysql: a sessions id is not 16 bytes");
  return *id;
}

Session session_from(const Row& row) {
  Session session;
  session.id = uuid_from(row, 0);
  session.user_id = uuid_from(row, 1);
  session.created_at = row.time(2);
  session.last_used_at = row.time(3);
  session.expires_at = row.time(4);
  session.auth_time = row.time(5);
  session.revoked_at = row.optional_time(6);
  session.amr = row.bytes(7);
  session.user_agent = row.bytes(8);
  session.ip = row.bytes(9);
  session.refresh_hash = row.bytes_or_empty(10);
  session.prev_refresh_hash = row.bytes_or_empty(11);
  session.next_refresh_sealed = row.bytes_or_empty(12);
  session.rotated_at = row.optional_time(13);
  return session;
}

}  // namespace

void MysqlSessionStore::insert(const Session& session) {
  const std::string_view user_agent =
      std::string_view(session.user_agent).substr(0, kUserAgentColumnBytes);
  connection_.execute(
      kInsert,
      {session.id.as_bytes(), session.user_id.as_bytes(), DateTime{session.created_at},
       DateTime{session.last_used_at}, DateTime{session.expires_at}, DateTime{session.auth_time},
       time_or_null(session.revoked_at), session.amr, user_agent, session.ip,
       bytes_or_null(session.refresh_hash), bytes_or_null(session.prev_refresh_hash),
       bytes_or_null(session.next_refresh_sealed), time_or_null(session.rotated_at)});
}

// The reads that decide whether a token's session is live are causal
// (Connection::causal_query): a logout, a password change or a disabling
// committed through another cluster node is seen here at once.
std::optional<Session> MysqlSessionStore::find(const Uuid& id) {
  const Rows rows = connection_.causal_query(kFind, {id.as_bytes()});
  if (rows.empty()) return std::nullopt;
  return session_from(rows.front());
}

std::optional<SessionStore::WithUser> MysqlSessionStore::find_with_user(const Uuid& id,
                                                                        UserStore&) {
  const Rows rows = connection_.causal_query(kFindWithUser, {id.as_bytes()});
  if (rows.empty()) return std::nullopt;
  const Row& row = rows.front();
  return WithUser{session_from(row), user_from_row(row, kSessionColumnCount),
                  static_cast<unsigned>(row.int64(kPasskeyCountColumn))};
}

std::optional<Session> MysqlSessionStore::find_for_update(const Uuid& id) {
  const Rows rows = connection_.causal_query(kFindForUpdate, {id.as_bytes()});
  if (rows.empty()) return std::nullopt;
  return session_from(rows.front());
}

std::vector<Session> MysqlSessionStore::list_live(const Uuid& user_id, UnixSeconds now,
                                                  UnixSeconds idle_ttl) {
  const Rows rows =
      connection_.query(kListLive, {user_id.as_bytes(), DateTime{now}, DateTime{now - idle_ttl}});
  std::vector<Session> out;
  out.reserve(rows.size());
  for (const Row& row : rows)
    out.push_back(session_from(row));
  return out;
}

bool MysqlSessionStore::revoke(const Uuid& id, UnixSeconds now) {
  return connection_.execute(kRevoke, {DateTime{now}, id.as_bytes()}) == 1;
}

int MysqlSessionStore::revoke_least_recently_used(const Uuid& user_id, unsigned keep,
                                                  UnixSeconds now, UnixSeconds idle_ttl) {
  // Usually at most one beyond the cap: the login that just opened one.
  const Rows live = connection_.query(
      kListLiveIds, {user_id.as_bytes(), DateTime{now}, DateTime{now - idle_ttl}});
  int ended = 0;
  for (std::size_t i = keep; i < live.size(); ++i)
    ended += connection_.execute(kRevoke, {DateTime{now}, live[i].bytes(0)}) == 1 ? 1 : 0;
  return ended;
}

void MysqlSessionStore::rotate_refresh(const Uuid& id, std::string_view spent_hash,
                                       std::string_view new_hash, std::string_view sealed,
                                       UnixSeconds now) {
  connection_.execute(kRotate,
                      {spent_hash, new_hash, sealed, DateTime{now}, DateTime{now}, id.as_bytes()});
  connection_.execute(kRecordSpent, {spent_hash, id.as_bytes(), DateTime{now}});
}

bool MysqlSessionStore::refresh_was_spent(const Uuid& id, std::string_view hash) {
  return !connection_.query(kWasSpent, {hash, id.as_bytes()}).empty();
}

int MysqlSessionStore::revoke_all_for_user(const Uuid& user_id, UnixSeconds now,
                                           std::optional<Uuid> keep) {
  const std::uint64_t revoked =
      keep ? connection_.execute(kRevokeAllBut,
                                 {DateTime{now}, user_id.as_bytes(), keep->as_bytes()})
           : connection_.execute(kRevokeAll, {DateTime{now}, user_id.as_bytes()});
  return static_cast<int>(revoked);
}

}  // namespace authd::mysql
