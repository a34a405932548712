#pragma once
#include "adapters/mysql/connection.h"
#include "ports/mfa_store.h"

namespace authd::mysql {

// MfaStore on users' TOTP columns, `mfa_recovery_codes` and
// `mfa_challenges`. Uses the worker's one connection, which must outlive it.
class MysqlMfaStore final : public MfaStore {
 public:
  explicit MysqlMfaStore(Connection& connection) : connection_(connection) {}

  MfaState read(const Uuid& user_id) override;
  void set_pending(const Uuid& user_id, std::string_view sealed) override;
  bool enable(const Uuid& user_id, std::string_view pending, std::int64_t step,
              UnixSeconds now) override;
  bool accept_step(const Uuid& user_id, std::int64_t step) override;
  void disable(const Uuid& user_id, UnixSeconds now) override;
  bool any_enabled() override;
  std::vector<SealedTotp> sealed_not_shaped(const Uuid& after, std::size_t size,
                                            unsigned char version, unsigned limit) override;
  bool replace_sealed(const SealedTotp& before, const SealedTotp& after) override;
  void replace_recovery_codes(const Uuid& user_id, const std::vector<std::string>& hashes) override;
  std::vector<RecoveryCode> unused_recovery_codes(const Uuid& user_id) override;
  bool spend_recovery_code(const Uuid& user_id, unsigned slot, UnixSeconds now) override;
  void insert_challenge(const MfaChallenge& challenge) override;
  std::optional<MfaChallenge> find_challenge(std::string_view token_hash) override;
  bool spend_challenge(std::string_view token_hash, UnixSeconds now) override;
  void void_challenges(const Uuid& user_id, UnixSeconds now) override;

 private:
  Connection& connection_;
};

}  // namespace authd::mysql
