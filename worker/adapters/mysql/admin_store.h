#pragma once
#include "adapters/mysql/connection.h"
#include "ports/admin_store.h"

namespace authd::mysql {

// AdminKeyStore on the `admin_keys` table (digests only).
class MysqlAdminKeyStore final : public AdminKeyStore {
 public:
  explicit MysqlAdminKeyStore(Connection& connection) : connection_(connection) {}

  InsertResult insert(const AdminKey& key) override;
  std::optional<AdminKey> find_by_hash(std::string_view key_hash) override;
  std::vector<AdminKey> list() override;
  bool revoke(std::string_view name, UnixSeconds now) override;
  void record_use(const Uuid& id, UnixSeconds now, UnixSeconds unless_after) override;

 private:
  Connection& connection_;
};

// AccountDirectory on the `users` table.
class MysqlAccountDirectory final : public AccountDirectory {
 public:
  explicit MysqlAccountDirectory(Connection& connection) : connection_(connection) {}

  std::vector<AccountSummary> list(const Query& query) override;
  std::optional<AccountSummary> find(const Uuid& id) override;

 private:
  Connection& connection_;
};

// `prefix` as a LIKE pattern that matches exactly the strings starting with
// it: `!`, `%` and `_` escaped with `!` (ESCAPE '!'), then `%`.
std::string like_prefix_pattern(std::string_view prefix);

}  // namespace authd::mysql
