#pragma once
#include "adapters/mysql/connection.h"
#include "ports/email_token_store.h"

namespace authd::mysql {

// EmailTokenStore on the `email_tokens` table (sql/003).
class MysqlEmailTokenStore final : public EmailTokenStore {
 public:
  explicit MysqlEmailTokenStore(Connection& connection) : connection_(connection) {}

  void insert(const EmailToken& token) override;
  std::optional<EmailToken> find_for_update(std::string_view hash) override;
  std::optional<EmailToken> find(std::string_view hash) override;
  bool remove(std::string_view hash) override;
  int remove_all(const Uuid& user_id, LinkPurpose purpose) override;
  int purge_expired(UnixSeconds before) override;

 private:
  Connection& connection_;
};

}  // namespace authd::mysql
