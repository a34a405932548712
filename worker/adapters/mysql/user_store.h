#pragma once
#include "adapters/mysql/connection.h"
#include "ports/user_store.h"

namespace authd::mysql {

// The user in `row` from column `first` on, in the order of the users
// SELECTs (id, email, password_hash, created_at, password_changed_at,
// disabled_at, email_verified_at, mfa_enabled_at IS NOT NULL,
// last_login_at): for
// statements that read a user beside other columns
// (MysqlSessionStore::find_with_user).
User user_from_row(const Row& row, std::size_t first);

// UserStore on the `users` table. Uses the worker's one connection, which
// must outlive it.
class MysqlUserStore final : public UserStore {
 public:
  explicit MysqlUserStore(Connection& connection) : connection_(connection) {}

  InsertResult insert(const User& user) override;
  std::optional<User> find_by_email(std::string_view normalised_email) override;
  std::optional<User> find_by_id(const Uuid& id) override;
  bool replace_password_hash(const Uuid& id, std::string_view expected_hash,
                             std::string_view new_hash,
                             std::optional<UnixSeconds> changed_at) override;
  bool set_disabled(const Uuid& id, std::optional<UnixSeconds> disabled_at) override;
  bool mark_email_verified(const Uuid& id, UnixSeconds at) override;
  std::optional<User> find_by_email_for_update(std::string_view normalised_email) override;
  std::optional<User> find_by_id_for_update(const Uuid& id) override;
  bool record_login(const Uuid& id, UnixSeconds at) override;
  bool erase_account(const Uuid& id, std::string_view normalised_email) override;

 private:
  Connection& connection_;
};

}  // namespace authd::mysql
