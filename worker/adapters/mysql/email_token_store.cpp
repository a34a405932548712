#include "adapters/mysql/email_token_store.h"

#include "ports/store_errors.h"

namespace authd::mysql {
namespace {

constexpr std::string_view kInsert =
    "INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at)"
    " VALUES (?, ?, ?, ?, ?)";
constexpr std::string_view kFind =
    "SELECT token_hash, user_id, purpose, created_at, expires_at FROM email_tokens"
    " WHERE token_hash = ?";
constexpr std::string_view kFindForUpdate =
    "SELECT token_hash, user_id, purpose, created_at, expires_at FROM email_tokens"
    " WHERE token_hash = ? FOR UPDATE";
constexpr std::string_view kRemove = "DELETE FROM email_tokens WHERE token_hash = ?";
constexpr std::string_view kRemoveAll =
    "DELETE FROM email_tokens WHERE user_id = ? AND purpose = ?";
// Bounded, so housekeeping never holds many locks at once.
constexpr std::string_view kPurge = "DELETE FROM email_tokens WHERE expires_at < ? LIMIT 500";

std::optional<EmailToken> token_from(const Rows& rows) {
  if (rows.empty()) return std::nullopt;
  const Row& row = rows.front();
  EmailToken token;
  token.hash = row.bytes(0);
  auto user = Uuid::from_bytes(row.bytes(1));
  auto purpose = purpose_from_name(row.bytes(2));
  if (!user || !purpose) throw StoreError("mysql: an email_tokens row is malformed");
  token.user_id = *user;
  token.purpose = *purpose;
  token.created_at = row.time(3);
  token.expires_at = row.time(4);
  return token;
}

}  // namespace

void MysqlEmailTokenStore::insert(const EmailToken& token) {
  connection_.execute(kInsert, {token.hash, token.user_id.as_bytes(), purpose_name(token.purpose),
                                DateTime{token.created_at}, DateTime{token.expires_at}});
}

// Causal (Connection::causal_query): a link spent through another cluster
// node is seen spent here.
std::optional<EmailToken> MysqlEmailTokenStore::find_for_update(std::string_view hash) {
  return token_from(connection_.causal_query(kFindForUpdate, {hash}));
}

std::optional<EmailToken> MysqlEmailTokenStore::find(std::string_view hash) {
  return token_from(connection_.causal_query(kFind, {hash}));
}

bool MysqlEmailTokenStore::remove(std::string_view hash) {
  return connection_.execute(kRemove, {hash}) == 1;
}

int MysqlEmailTokenStore::remove_all(const Uuid& user_id, LinkPurpose purpose) {
  return static_cast<int>(
      connection_.execute(kRemoveAll, {user_id.as_bytes(), purpose_name(purpose)}));
}

int MysqlEmailTokenStore::purge_expired(UnixSeconds before) {
  return static_cast<int>(connection_.execute(kPurge, {DateTime{before}}));
}

}  // namespace authd::mysql
