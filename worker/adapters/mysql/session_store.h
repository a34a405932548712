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
  int revoke_all_for_user(const Uuid& user_id, UnixSeconds now,
                          std::optional<Uuid> keep = std::nullopt) override;

 private:
  Connection& connection_;
};

}  // namespace authd::mysql
