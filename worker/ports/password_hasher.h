#pragma once
#include <string>
#include <string_view>

namespace authd {

// Slow, salted password hashing. Implementations own the cost parameters and
// the optional pepper; the service only hands over normalised passwords.
class PasswordHasher {
 public:
  virtual ~PasswordHasher() = default;
  virtual std::string hash(std::string_view password) = 0;
  // Constant work whether or not it matches.
  virtual bool verify(std::string_view stored_hash, std::string_view password) = 0;
  // True when the stored hash was made with other parameters than the
  // configured ones (re-hash at the next successful login).
  virtual bool needs_rehash(std::string_view stored_hash) = 0;
};

}  // namespace authd
