#include "adapters/mysql/passkey_store.h"

#include <sodium.h>

#include "adapters/mysql/errors.h"
#include "ports/store_errors.h"

namespace authd::mysql {
namespace {

// The SELECTs list the columns in the order passkey_from() reads them.
#define AUTHD_PASSKEY_COLUMNS                                                               \
  "id, user_id, credential_id, alg, public_key, sign_count, backup_eligible, backup_state," \
  " aaguid, transports, name, created_at, last_used_at"

constexpr std::string_view kFindHandle =
    "SELECT handle FROM passkey_user_handles WHERE user_id = ?";
constexpr std::string_view kInsertHandle =
    "INSERT INTO passkey_user_handles (user_id, handle) VALUES (?, ?)";
constexpr std::string_view kList =
    "SELECT " AUTHD_PASSKEY_COLUMNS " FROM passkeys WHERE user_id = ? ORDER BY created_at, id";
constexpr std::string_view kCount = "SELECT COUNT(*) FROM passkeys WHERE user_id = ?";
constexpr std::string_view kFind = "SELECT " AUTHD_PASSKEY_COLUMNS " FROM passkeys WHERE id = ?";
constexpr std::string_view kFindByCredential =
    "SELECT " AUTHD_PASSKEY_COLUMNS " FROM passkeys WHERE credential_id_hash = ?";
#undef AUTHD_PASSKEY_COLUMNS
// The account's row, locked: registrations of one account are counted one
// after the other (READ COMMITTED: the count below then sees the other's
// committed row).
constexpr std::string_view kLockUser = "SELECT id FROM users WHERE id = ? FOR UPDATE";
constexpr std::string_view kCredentialTaken = "SELECT 1 FROM passkeys WHERE credential_id_hash = ?";
constexpr std::string_view kInsert =
    "INSERT INTO passkeys (id, user_id, credential_id, credential_id_hash, alg, public_key,"
    " sign_count, backup_eligible, backup_state, aaguid, transports, name, created_at,"
    " last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)";
constexpr std::string_view kRemove = "DELETE FROM passkeys WHERE id = ? AND user_id = ?";
constexpr std::string_view kRemoveAll = "DELETE FROM passkeys WHERE user_id = ?";
// A passkey registered in the very second the address was verified counts
// as unverified, as a TOTP does (auth/password_reset.cpp): the mailbox's
// owner wins the tie.
constexpr std::string_view kRemoveCreatedBefore =
    "DELETE FROM passkeys WHERE user_id = ? AND created_at <= ?";
// Compare-and-swap: the counter only moves up, so of two workers holding
// assertions with one counter value, one stores it and the other matches
// no row.
constexpr std::string_view kUseWithCount =
    "UPDATE passkeys SET sign_count = ?, backup_state = ?, last_used_at = ?"
    " WHERE id = ? AND sign_count < ?";
constexpr std::string_view kUse =
    "UPDATE passkeys SET backup_state = ?, last_used_at = ? WHERE id = ?";
constexpr std::string_view kInsertChallenge =
    "INSERT INTO webauthn_challenges (challenge_hash, purpose, user_id, mfa_token_hash,"
    " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)";
constexpr std::string_view kFindChallenge =
    "SELECT challenge_hash, user_id, mfa_token_hash, created_at, expires_at"
    " FROM webauthn_challenges WHERE challenge_hash = ? AND purpose = ?";
constexpr std::string_view kDeleteChallenge =
    "DELETE FROM webauthn_challenges WHERE challenge_hash = ? AND purpose = ?";
// Expired challenges are of no use to anyone; a few go with each new one.
constexpr std::string_view kPurgeChallenges =
    "DELETE FROM webauthn_challenges WHERE expires_at < ? LIMIT 50";

constexpr std::string_view kCredentialKey = "passkeys_credential";
constexpr std::string_view kHandleKey = "passkey_user_handles_handle";

Uuid uuid_at(const Row& row, std::size_t column) {
  auto id = Uuid::from_bytes(row.bytes(column));
  if (!id) throw StoreError("mysql: a passkeys id is not 16 bytes");
  return *id;
}

Passkey passkey_from(const Row& row) {
  Passkey p;
  p.id = uuid_at(row, 0);
  p.user_id = uuid_at(row, 1);
  p.credential_id = row.bytes(2);
  p.alg = row.int64(3);
  p.public_key = row.bytes(4);
  p.sign_count = static_cast<std::uint32_t>(row.int64(5));
  p.backup_eligible = row.int64(6) != 0;
  p.backed_up = row.int64(7) != 0;
  p.aaguid = row.bytes(8);
  p.transports = row.bytes(9);
  p.name = row.bytes(10);
  p.created_at = row.time(11);
  p.last_used_at = row.optional_time(12);
  return p;
}

std::optional<Passkey> first(const Rows& rows) {
  if (rows.empty()) return std::nullopt;
  return passkey_from(rows.front());
}

std::string credential_hash(std::string_view credential_id) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(credential_id.data()),
                     credential_id.size());
  return out;
}

}  // namespace

// The reads that decide whether a passkey, its owner's handle or a
// ceremony's challenge is good are causal (Connection::causal_query): a
// passkey registered or removed, or a challenge made or spent, through
// another cluster node is seen here at once.
std::optional<std::string> MysqlPasskeyStore::find_user_handle(const Uuid& user_id) {
  const Rows rows = connection_.causal_query(kFindHandle, {user_id.as_bytes()});
  if (rows.empty()) return std::nullopt;
  return rows.front().bytes(0);
}

std::string MysqlPasskeyStore::user_handle(const Uuid& user_id, std::string_view candidate) {
  if (auto existing = find_user_handle(user_id)) return *existing;
  try {
    connection_.execute(kInsertHandle, {user_id.as_bytes(), candidate});
  } catch (const DuplicateKey& duplicate) {
    // Another first registration of this account made one meanwhile; a
    // clash of two random 256-bit handles would be a broken generator.
    if (duplicate.key() == kHandleKey) throw;
  }
  if (auto stored = find_user_handle(user_id)) return *stored;
  throw StoreError("mysql: the user handle of an account is missing after its insert");
}

std::vector<Passkey> MysqlPasskeyStore::list(const Uuid& user_id) {
  std::vector<Passkey> out;
  for (const Row& row : connection_.causal_query(kList, {user_id.as_bytes()}))
    out.push_back(passkey_from(row));
  return out;
}

unsigned MysqlPasskeyStore::count(const Uuid& user_id) {
  const Rows rows = connection_.query(kCount, {user_id.as_bytes()});
  return rows.empty() ? 0 : static_cast<unsigned>(rows.front().int64(0));
}

std::optional<Passkey> MysqlPasskeyStore::find(const Uuid& id) {
  return first(connection_.causal_query(kFind, {id.as_bytes()}));
}

std::optional<Passkey> MysqlPasskeyStore::find_by_credential_id(std::string_view credential_id) {
  const std::string hash = credential_hash(credential_id);
  auto found = first(connection_.causal_query(kFindByCredential, {std::string_view(hash)}));
  // The hash found it; the id itself decides (a SHA-256 collision is not a
  // login).
  if (found && found->credential_id != credential_id) return std::nullopt;
  return found;
}

PasskeyStore::AddResult MysqlPasskeyStore::add(const Passkey& p, unsigned max_per_user) {
  const std::string hash = credential_hash(p.credential_id);
  // Inside the caller's transaction, whose begin() was causal: the lock,
  // the count and the credential check below see every passkey committed
  // anywhere in the cluster.
  connection_.query(kLockUser, {p.user_id.as_bytes()});
  if (!connection_.query(kCredentialTaken, {std::string_view(hash)}).empty()) {
    return AddResult::exists;
  }
  if (count(p.user_id) >= max_per_user) return AddResult::limit;
  try {
    connection_.execute(
        kInsert,
        {p.id.as_bytes(), p.user_id.as_bytes(), std::string_view(p.credential_id),
         std::string_view(hash), p.alg, std::string_view(p.public_key), std::int64_t{p.sign_count},
         std::int64_t{p.backup_eligible ? 1 : 0}, std::int64_t{p.backed_up ? 1 : 0},
         std::string_view(p.aaguid), std::string_view(p.transports), std::string_view(p.name),
         DateTime{p.created_at}});
  } catch (const DuplicateKey& duplicate) {
    // Another account registered the same credential id in between.
    if (duplicate.key() == kCredentialKey) return AddResult::exists;
    throw;
  }
  return AddResult::added;
}

bool MysqlPasskeyStore::remove(const Uuid& user_id, const Uuid& id) {
  return connection_.execute(kRemove, {id.as_bytes(), user_id.as_bytes()}) == 1;
}

int MysqlPasskeyStore::remove_all(const Uuid& user_id) {
  return static_cast<int>(connection_.execute(kRemoveAll, {user_id.as_bytes()}));
}

int MysqlPasskeyStore::remove_created_while_unverified(
    const Uuid& user_id, std::optional<UnixSeconds> email_verified_at) {
  if (!email_verified_at) return remove_all(user_id);
  return static_cast<int>(connection_.execute(kRemoveCreatedBefore,
                                              {user_id.as_bytes(), DateTime{*email_verified_at}}));
}

bool MysqlPasskeyStore::record_use(const Uuid& id, std::optional<std::uint32_t> new_sign_count,
                                   bool backed_up, UnixSeconds now) {
  const std::int64_t bs = backed_up ? 1 : 0;
  if (new_sign_count) {
    const std::int64_t count = *new_sign_count;
    return connection_.execute(kUseWithCount, {count, bs, DateTime{now}, id.as_bytes(), count}) ==
           1;
  }
  return connection_.execute(kUse, {bs, DateTime{now}, id.as_bytes()}) == 1;
}

void MysqlPasskeyStore::insert_challenge(const WebAuthnChallenge& c) {
  connection_.execute(kPurgeChallenges, {DateTime{c.created_at}});
  const Param user = c.user_id ? Param(c.user_id->as_bytes()) : Param(nullptr);
  const Param mfa =
      c.mfa_token_hash.empty() ? Param(nullptr) : Param(std::string_view(c.mfa_token_hash));
  connection_.execute(kInsertChallenge,
                      {std::string_view(c.challenge_hash), challenge_purpose_name(c.purpose), user,
                       mfa, DateTime{c.created_at}, DateTime{c.expires_at}});
}

std::optional<WebAuthnChallenge> MysqlPasskeyStore::take_challenge(std::string_view challenge_hash,
                                                                   ChallengePurpose purpose) {
  const std::string_view name = challenge_purpose_name(purpose);
  const Rows rows = connection_.causal_query(kFindChallenge, {challenge_hash, name});
  if (rows.empty()) return std::nullopt;
  // Spent by deleting it: of two requests presenting it, one deletes the row.
  if (connection_.execute(kDeleteChallenge, {challenge_hash, name}) != 1) return std::nullopt;
  const Row& row = rows.front();
  WebAuthnChallenge c;
  c.challenge_hash = row.bytes(0);
  c.purpose = purpose;
  if (!row.is_null(1)) c.user_id = uuid_at(row, 1);
  c.mfa_token_hash = row.bytes_or_empty(2);
  c.created_at = row.time(3);
  c.expires_at = row.time(4);
  return c;
}

}  // namespace authd::mysql
