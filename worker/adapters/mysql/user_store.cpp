#include "adapters/mysql/user_store.h"

#include "adapters/mysql/errors.h"
#include "adapters/mysql/throttle_store.h"

namespace authd::mysql {
namespace {

// The SELECTs list the columns in the order user_from() reads them.
constexpr std::string_view kInsert =
    "INSERT INTO users (id, email, password_hash, created_at, password_changed_at, disabled_at,"
    " email_verified_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kFindByEmail =
    "SELECT id, email, password_hash, created_at, password_changed_at, disabled_at,"
    " email_verified_at, mfa_enabled_at IS NOT NULL, last_login_at FROM users WHERE email = ?";
constexpr std::string_view kFindById =
    "SELECT id, email, password_hash, created_at, password_changed_at, disabled_at,"
    " email_verified_at, mfa_enabled_at IS NOT NULL, last_login_at FROM users WHERE id = ?";
// Compare-and-swap: the row changes only while it still holds the hash the
// caller verified against.
constexpr std::string_view kReplaceHash =
    "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?";
constexpr std::string_view kReplaceHashAndChangedAt =
    "UPDATE users SET password_hash = ?, password_changed_at = ?"
    " WHERE id = ? AND password_hash = ?";

constexpr std::string_view kSetDisabled = "UPDATE users SET disabled_at = ? WHERE id = ?";
constexpr std::string_view kMarkEmailVerified =
    "UPDATE users SET email_verified_at = ? WHERE id = ? AND email_verified_at IS NULL";
constexpr std::string_view kFindByEmailForUpdate =
    "SELECT id, email, password_hash, created_at, password_changed_at, disabled_at,"
    " email_verified_at, mfa_enabled_at IS NOT NULL, last_login_at FROM users WHERE email = ? FOR "
    "UPDATE";

constexpr std::string_view kFindByIdForUpdate =
    "SELECT id, email, password_hash, created_at, password_changed_at, disabled_at,"
    " email_verified_at, mfa_enabled_at IS NOT NULL, last_login_at FROM users WHERE id = ?"
    " FOR UPDATE";
constexpr std::string_view kRecordLogin = "UPDATE users SET last_login_at = ? WHERE id = ?";

// Closing an account: every table that holds a row of it, or of its email.
// Pending resend/forgot requests are taken with SKIP LOCKED: one that a
// mailer holds is being answered under the account's lock, which we wait
// for first, so that mailer finds no account and removes its request.
constexpr std::string_view kMailRequestsOfEmail =
    "SELECT id FROM mail_requests WHERE email = ? FOR UPDATE SKIP LOCKED";
constexpr std::string_view kEraseMailRequest = "DELETE FROM mail_requests WHERE id = ?";
constexpr std::string_view kEraseThrottle = "DELETE FROM login_throttle WHERE email_hash = ?";
constexpr std::string_view kEraseRefreshHistory =
    "DELETE h FROM refresh_token_history h JOIN sessions s ON s.id = h.session_id"
    " WHERE s.user_id = ?";
constexpr std::string_view kEraseSessions = "DELETE FROM sessions WHERE user_id = ?";
constexpr std::string_view kEraseRecoveryCodes = "DELETE FROM mfa_recovery_codes WHERE user_id = ?";
constexpr std::string_view kEraseMfaChallenges = "DELETE FROM mfa_challenges WHERE user_id = ?";
constexpr std::string_view kEraseEmailTokens = "DELETE FROM email_tokens WHERE user_id = ?";
constexpr std::string_view kErasePasskeys = "DELETE FROM passkeys WHERE user_id = ?";
constexpr std::string_view kErasePasskeyHandle =
    "DELETE FROM passkey_user_handles WHERE user_id = ?";
// Ceremonies under way for it (registration, a second step); a passwordless
// login's challenge names no account.
constexpr std::string_view kEraseWebauthnChallenges =
    "DELETE FROM webauthn_challenges WHERE user_id = ?";
// Queued mail to it (a closed account's notice names no account: it stays).
constexpr std::string_view kEraseOutbox = "DELETE FROM mail_outbox WHERE user_id = ?";
constexpr std::string_view kEraseUser = "DELETE FROM users WHERE id = ?";

constexpr std::string_view kEmailKey = "users_email";

Uuid uuid_from(const Row& row, std::size_t column) {
  auto id = Uuid::from_bytes(row.bytes(column));
  if (!id) throw StoreError("mysql: a users id is not 16 bytes");
  return *id;
}

std::optional<User> user_from(const Rows& rows) {
  if (rows.empty()) return std::nullopt;
  return user_from_row(rows.front(), 0);
}

}  // namespace

User user_from_row(const Row& row, std::size_t first) {
  User user;
  user.id = uuid_from(row, first + 0);
  user.email = row.bytes(first + 1);
  user.password_hash = row.bytes(first + 2);
  user.created_at = row.time(first + 3);
  user.password_changed_at = row.time(first + 4);
  user.disabled_at = row.optional_time(first + 5);
  user.email_verified_at = row.optional_time(first + 6);
  user.mfa_enabled = row.int64(first + 7) != 0;
  user.last_login_at = row.optional_time(first + 8);
  return user;
}

UserStore::InsertResult MysqlUserStore::insert(const User& user) {
  try {
    connection_.execute(
        kInsert, {user.id.as_bytes(), user.email, user.password_hash, DateTime{user.created_at},
                  DateTime{user.password_changed_at}, time_or_null(user.disabled_at),
                  time_or_null(user.email_verified_at)});
  } catch (const DuplicateKey& duplicate) {
    if (duplicate.key() == kEmailKey) return InsertResult::email_taken;
    throw;  // an id collision is a bug in id generation, not a user error
  }
  return InsertResult::inserted;
}

// Causal (Connection::causal_query): an account made, disabled or given a
// new password through another cluster node is seen as it now is.
std::optional<User> MysqlUserStore::find_by_email(std::string_view normalised_email) {
  return user_from(connection_.causal_query(kFindByEmail, {normalised_email}));
}

std::optional<User> MysqlUserStore::find_by_id(const Uuid& id) {
  return user_from(connection_.causal_query(kFindById, {id.as_bytes()}));
}

bool MysqlUserStore::replace_password_hash(const Uuid& id, std::string_view expected_hash,
                                           std::string_view new_hash,
                                           std::optional<UnixSeconds> changed_at) {
  const std::uint64_t matched =
      changed_at ? connection_.execute(kReplaceHashAndChangedAt, {new_hash, DateTime{*changed_at},
                                                                  id.as_bytes(), expected_hash})
                 : connection_.execute(kReplaceHash, {new_hash, id.as_bytes(), expected_hash});
  return matched == 1;
}

bool MysqlUserStore::set_disabled(const Uuid& id, std::optional<UnixSeconds> disabled_at) {
  return connection_.execute(kSetDisabled, {time_or_null(disabled_at), id.as_bytes()}) == 1;
}

bool MysqlUserStore::mark_email_verified(const Uuid& id, UnixSeconds at) {
  return connection_.execute(kMarkEmailVerified, {DateTime{at}, id.as_bytes()}) == 1;
}

std::optional<User> MysqlUserStore::find_by_email_for_update(std::string_view normalised_email) {
  return user_from(connection_.causal_query(kFindByEmailForUpdate, {normalised_email}));
}

std::optional<User> MysqlUserStore::find_by_id_for_update(const Uuid& id) {
  return user_from(connection_.causal_query(kFindByIdForUpdate, {id.as_bytes()}));
}

bool MysqlUserStore::record_login(const Uuid& id, UnixSeconds at) {
  return connection_.execute(kRecordLogin, {DateTime{at}, id.as_bytes()}) == 1;
}

bool MysqlUserStore::erase_account(const Uuid& id, std::string_view normalised_email) {
  const std::string_view user_id = id.as_bytes();
  for (const Row& request : connection_.query(kMailRequestsOfEmail, {normalised_email})) {
    connection_.execute(kEraseMailRequest, {request.int64(0)});
  }
  const std::string throttle_key = throttle_email_key(normalised_email);
  connection_.execute(kEraseThrottle, {std::string_view(throttle_key)});
  connection_.execute(kEraseRefreshHistory, {user_id});
  connection_.execute(kEraseSessions, {user_id});
  connection_.execute(kEraseRecoveryCodes, {user_id});
  connection_.execute(kEraseMfaChallenges, {user_id});
  connection_.execute(kEraseEmailTokens, {user_id});
  connection_.execute(kErasePasskeys, {user_id});
  connection_.execute(kErasePasskeyHandle, {user_id});
  connection_.execute(kEraseWebauthnChallenges, {user_id});
  connection_.execute(kEraseOutbox, {user_id});
  return connection_.execute(kEraseUser, {user_id}) == 1;
}

}  // namespace authd::mysql
