#pragma once
#include "adapters/mysql/connection.h"
#include "ports/session_store.h"

namespace authd::mysql {

// SessionStore on the `sessions` table. Uses the worker's one connection,
// which must outlive it.
class MysqlSessionStore final : public SessionStore {
 public:
  explicit MysqlSessionStore(Connection& connection) : connection_(connection) {}

  void insert(const Session& session) override;
  std::optional<Session> find(const Uuid& id) override;
  std::optional<Session> find_for_update(const Uuid& id) override;
  std::vector<Session> list_live(const Uuid& user_id, UnixSeconds now,
                                 UnixSeconds idle_ttl) override;
  bool revoke(const Uuid& id, UnixSeconds now) override;
  int revoke_all_for_user(const Uuid& user_id, UnixSeconds now,
                          std::optional<Uuid> keep = std::nullopt) override;
  int revoke_least_recently_used(const Uuid& user_id, unsigned keep, UnixSeconds now,
                                 UnixSeconds idle_ttl) override;
  void rotate_refresh(const Uuid& id, std::string_view spent_hash, std::string_view new_hash,
                      std::string_view sealed, UnixSeconds now) override;
  bool refresh_was_spent(const Uuid& id, std::string_view hash) override;
  // One statement: the session joined to its user (`users` is not used).
  std::optional<WithUser> find_with_user(const Uuid& id, UserStore& users) override;

 private:
  Connection& connection_;
};

}  // namespace authd::mysql
