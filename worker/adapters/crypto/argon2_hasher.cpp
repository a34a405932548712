#include "adapters/crypto/argon2_hasher.h"

#include <sodium.h>

#include <array>
#include <new>
#include <stdexcept>

namespace authd {

Argon2idHasher::Argon2idHasher(std::uint64_t memory_kib, std::uint64_t iterations,
                               std::string pepper)
    : memlimit_bytes_(memory_kib * 1024), opslimit_(iterations), pepper_(std::move(pepper)) {}

std::string Argon2idHasher::keyed(std::string_view password) const {
  if (pepper_.empty()) return std::string(password);
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(pepper_.data()),
                              pepper_.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(password.data()),
                                password.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

std::string Argon2idHasher::hash(std::string_view password) {
  std::string input = keyed(password);
  std::array<char, crypto_pwhash_STRBYTES> out{};
  int rc = crypto_pwhash_str_alg(out.data(), input.data(), input.size(), opslimit_,
                                 static_cast<std::size_t>(memlimit_bytes_),
                                 crypto_pwhash_ALG_ARGON2ID13);
  sodium_memzero(input.data(), input.size());
  // The only failure is running out of memory: the pool size and Argon2
  // memory are checked against the budget at startup, so this is rare.
  if (rc != 0) throw std::bad_alloc();
  return std::string(out.data());
}

bool Argon2idHasher::verify(std::string_view stored_hash, std::string_view password) {
  // crypto_pwhash_str_verify wants a NUL-terminated string within STRBYTES.
  if (stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::array<char, crypto_pwhash_STRBYTES> phc{};
  stored_hash.copy(phc.data(), stored_hash.size());
  std::string input = keyed(password);
  bool ok = crypto_pwhash_str_verify(phc.data(), input.data(), input.size()) == 0;
  sodium_memzero(input.data(), input.size());
  return ok;
}

bool Argon2idHasher::needs_rehash(std::string_view stored_hash) {
  if (stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES) return true;
  std::array<char, crypto_pwhash_STRBYTES> phc{};
  stored_hash.copy(phc.data(), stored_hash.size());
  return crypto_pwhash_str_needs_rehash(phc.data(), opslimit_,
                                        static_cast<std::size_t>(memlimit_bytes_)) != 0;
}

}  // namespace authd
