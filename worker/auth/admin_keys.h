#pragma once
// Admin API keys (API.md "Admin API"): `authd_admin_` and the base64url of
// 256 random bits, shown once by `authd admin-key create` and kept only as
// their SHA-256. A 256-bit random key needs no slow or keyed hash: it
// cannot be guessed, so there is nothing for Argon2id's cost to slow down,
// and a digest cannot be turned back into the key; a plain digest also lets
// a request find its key by an index lookup.
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "auth/outcome.h"
#include "ports/admin_store.h"
#include "ports/clock.h"
#include "ports/random.h"

namespace authd {

inline constexpr std::string_view kAdminKeyPrefix = "authd_admin_";
inline constexpr std::size_t kAdminKeyRandomBytes = 32;

// What a route needs. users:write includes users:read.
enum class AdminScope { users_read, users_write };

std::string new_admin_key(Random& random);
// The shape of a key this server makes (the prefix, then 43 to 256
// base64url characters): anything else is refused without a lookup.
bool looks_like_admin_key(std::string_view text);
// SHA-256, 32 raw bytes: what is stored, and what a key is found by.
std::string admin_key_digest(std::string_view key);

// [a-z0-9._-]{1,64}
bool valid_admin_key_name(std::string_view name);
// "users:read, users:write" → "users:read,users:write" (known scopes only,
// each once, in a fixed order); nullopt when one is unknown or none given.
std::optional<std::string> canonical_scopes(std::string_view comma_separated);
bool scopes_grant(std::string_view stored_scopes, AdminScope needed);
std::string_view scope_name(AdminScope scope);

// `authd admin-key create|list|revoke`.
class AdminKeys {
 public:
  AdminKeys(AdminKeyStore& store, const Clock& clock, Random& random)
      : store_(store), clock_(clock), random_(random) {}

  struct Created {
    std::string key;  // shown once
    AdminKey stored;
  };
  enum class CreateError { invalid_name, unknown_scope, name_taken };
  // The new key, or why not.
  std::variant<Created, CreateError> create(std::string_view name, std::string_view scopes);
  std::vector<AdminKey> list() { return store_.list(); }
  // false when no active key has that name (nothing changes).
  bool revoke(std::string_view name);

 private:
  AdminKeyStore& store_;
  const Clock& clock_;
  Random& random_;
};

}  // namespace authd
