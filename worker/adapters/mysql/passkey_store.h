#pragma once
#include "adapters/mysql/connection.h"
#include "ports/passkey_store.h"

namespace authd::mysql {

// PasskeyStore on `passkeys`, `passkey_user_handles` and
// `webauthn_challenges` (sql/006). Uses the worker's one connection, which
// must outlive it.
class MysqlPasskeyStore final : public PasskeyStore {
 public:
  explicit MysqlPasskeyStore(Connection& connection) : connection_(connection) {}

  std::string user_handle(const Uuid& user_id, std::string_view candidate) override;
  std::optional<std::string> find_user_handle(const Uuid& user_id) override;
  std::vector<Passkey> list(const Uuid& user_id) override;
  unsigned count(const Uuid& user_id) override;
  std::optional<Passkey> find(const Uuid& id) override;
  std::optional<Passkey> find_by_credential_id(std::string_view credential_id) override;
  AddResult add(const Passkey& passkey, unsigned max_per_user) override;
  bool remove(const Uuid& user_id, const Uuid& id) override;
  int remove_all(const Uuid& user_id) override;
  int remove_created_while_unverified(const Uuid& user_id,
                                      std::optional<UnixSeconds> email_verified_at) override;
  bool record_use(const Uuid& id, std::optional<std::uint32_t> new_sign_count, bool backed_up,
                  UnixSeconds now) override;
  void insert_challenge(const WebAuthnChallenge& challenge) override;
  std::optional<WebAuthnChallenge> take_challenge(std::string_view challenge_hash,
                                                  ChallengePurpose purpose) override;

 private:
  Connection& connection_;
};

}  // namespace authd::mysql
