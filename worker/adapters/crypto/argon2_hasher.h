#pragma once
#include <cstdint>
#include <string>

#include "ports/password_hasher.h"

namespace authd {

// Argon2id through libsodium's crypto_pwhash_str: the PHC string keeps salt
// and parameters, so the cost can change per row. With a pepper, the password
// is first keyed with HMAC-SHA-256 (so a stolen database alone cannot be
// attacked offline); the pepper can therefore never change without a
// migration path (re-hash at login under the new one while accepting both).
class Argon2idHasher final : public PasswordHasher {
 public:
  Argon2idHasher(std::uint64_t memory_kib, std::uint64_t iterations, std::string pepper);

  std::string hash(std::string_view password) override;
  bool verify(std::string_view stored_hash, std::string_view password) override;
  bool needs_rehash(std::string_view stored_hash) override;

 private:
  std::string keyed(std::string_view password) const;

  std::uint64_t memlimit_bytes_;
  std::uint64_t opslimit_;
  std::string pepper_;
};

}  // namespace authd
