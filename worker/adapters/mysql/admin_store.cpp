#include "adapters/mysql/admin_store.h"

#include "adapters/mysql/errors.h"
#include "adapters/mysql/user_store.h"

namespace authd::mysql {
namespace {

constexpr std::string_view kInsertKey =
    "INSERT INTO admin_keys (id, name, key_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)";
constexpr std::string_view kFindKey =
    "SELECT id, name, key_hash, scopes, created_at, last_used_at, revoked_at FROM admin_keys"
    " WHERE key_hash = ?";
constexpr std::string_view kListKeys =
    "SELECT id, name, key_hash, scopes, created_at, last_used_at, revoked_at FROM admin_keys"
    " ORDER BY created_at, id";
constexpr std::string_view kRevokeKey =
    "UPDATE admin_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL";
constexpr std::string_view kRecordUse =
    "UPDATE admin_keys SET last_used_at = ? WHERE id = ?"
    " AND (last_used_at IS NULL OR last_used_at <= ?)";
constexpr std::string_view kActiveNameKey = "admin_keys_active_name";

// The user columns in user_from_row()'s order, then how many passkeys the
// account has (a count over the passkeys index by user, per row shown: a
// page holds at most 100).
#define AUTHD_ACCOUNT_COLUMNS                                                      \
  "SELECT id, email, password_hash, created_at, password_changed_at, disabled_at," \
  " email_verified_at, mfa_enabled_at IS NOT NULL, last_login_at,"                 \
  " (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = users.id) AS passkeys FROM users"
constexpr std::string_view kListAll = AUTHD_ACCOUNT_COLUMNS " ORDER BY id DESC LIMIT ?";
constexpr std::string_view kListAllBefore =
    AUTHD_ACCOUNT_COLUMNS " WHERE id < ? ORDER BY id DESC LIMIT ?";
constexpr std::string_view kListExact =
    AUTHD_ACCOUNT_COLUMNS " WHERE email = ? ORDER BY id DESC LIMIT ?";
constexpr std::string_view kListExactBefore =
    AUTHD_ACCOUNT_COLUMNS " WHERE email = ? AND id < ? ORDER BY id DESC LIMIT ?";
constexpr std::string_view kListPrefix =
    AUTHD_ACCOUNT_COLUMNS " WHERE email LIKE ? ESCAPE '!' ORDER BY id DESC LIMIT ?";
constexpr std::string_view kListPrefixBefore =
    AUTHD_ACCOUNT_COLUMNS " WHERE email LIKE ? ESCAPE '!' AND id < ? ORDER BY id DESC LIMIT ?";
constexpr std::string_view kFindAccount = AUTHD_ACCOUNT_COLUMNS " WHERE id = ?";
#undef AUTHD_ACCOUNT_COLUMNS
constexpr std::size_t kPasskeysColumn = 9;

AdminKey key_from(const Row& row) {
  AdminKey k;
  auto id = Uuid::from_bytes(row.bytes(0));
  if (!id) throw StoreError("mysql: an admin_keys id is not 16 bytes");
  k.id = *id;
  k.name = row.bytes(1);
  k.key_hash = row.bytes(2);
  k.scopes = row.bytes(3);
  k.created_at = row.time(4);
  k.last_used_at = row.optional_time(5);
  k.revoked_at = row.optional_time(6);
  return k;
}

std::vector<AccountSummary> accounts_from(const Rows& rows) {
  std::vector<AccountSummary> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    out.push_back(
        AccountSummary{user_from_row(row, 0), static_cast<unsigned>(row.int64(kPasskeysColumn))});
  }
  return out;
}

}  // namespace

std::string like_prefix_pattern(std::string_view prefix) {
  std::string out;
  out.reserve(prefix.size() + 8);
  for (char c : prefix) {
    if (c == '!' || c == '%' || c == '_') out += '!';
    out += c;
  }
  out += '%';
  return out;
}

// A key's digest is looked up causally (Connection::causal_query): a key
// made or revoked through another cluster node is known as it now is. The
// directory's reads are too: an admin who just disabled, closed or invited
// an account through one node reads it back through any other as it is.
AdminKeyStore::InsertResult MysqlAdminKeyStore::insert(const AdminKey& key) {
  try {
    connection_.execute(kInsertKey, {key.id.as_bytes(), key.name, key.key_hash, key.scopes,
                                     DateTime{key.created_at}});
  } catch (const DuplicateKey& duplicate) {
    if (duplicate.key() == kActiveNameKey) return InsertResult::name_taken;
    throw;
  }
  return InsertResult::inserted;
}

std::optional<AdminKey> MysqlAdminKeyStore::find_by_hash(std::string_view key_hash) {
  const Rows rows = connection_.causal_query(kFindKey, {key_hash});
  if (rows.empty()) return std::nullopt;
  return key_from(rows.front());
}

std::vector<AdminKey> MysqlAdminKeyStore::list() {
  std::vector<AdminKey> out;
  for (const Row& row : connection_.causal_query(kListKeys))
    out.push_back(key_from(row));
  return out;
}

bool MysqlAdminKeyStore::revoke(std::string_view name, UnixSeconds now) {
  return connection_.execute(kRevokeKey, {DateTime{now}, name}) >= 1;
}

void MysqlAdminKeyStore::record_use(const Uuid& id, UnixSeconds now, UnixSeconds unless_after) {
  connection_.execute(kRecordUse, {DateTime{now}, id.as_bytes(), DateTime{unless_after}});
}

std::vector<AccountSummary> MysqlAccountDirectory::list(const Query& q) {
  const std::int64_t limit = q.limit;
  // No filter, or an empty prefix (`*`): every account.
  if (q.email.empty()) {
    return accounts_from(
        q.before ? connection_.causal_query(kListAllBefore, {q.before->as_bytes(), limit})
                 : connection_.causal_query(kListAll, {limit}));
  }
  if (!q.prefix) {
    return accounts_from(q.before ? connection_.causal_query(kListExactBefore,
                                                             {q.email, q.before->as_bytes(), limit})
                                  : connection_.causal_query(kListExact, {q.email, limit}));
  }
  const std::string pattern = like_prefix_pattern(q.email);
  return accounts_from(
      q.before ? connection_.causal_query(kListPrefixBefore,
                                          {std::string_view(pattern), q.before->as_bytes(), limit})
               : connection_.causal_query(kListPrefix, {std::string_view(pattern), limit}));
}

std::optional<AccountSummary> MysqlAccountDirectory::find(const Uuid& id) {
  auto accounts = accounts_from(connection_.causal_query(kFindAccount, {id.as_bytes()}));
  if (accounts.empty()) return std::nullopt;
  return std::move(accounts.front());
}

}  // namespace authd::mysql
