#pragma once
// What the admin API needs beyond the other ports: its keys, and the list
// of accounts a back office pages through.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/clock.h"
#include "ports/records.h"
#include "ports/uuid.h"

namespace authd {

// An admin API key as stored: its SHA-256, never the key.
struct AdminKey {
  Uuid id;
  std::string name;      // [a-z0-9._-]{1,64}, unique among active keys
  std::string key_hash;  // SHA-256 of the whole key, 32 raw bytes
  std::string scopes;    // comma-separated, as given: "users:read,users:write"
  UnixSeconds created_at = 0;
  std::optional<UnixSeconds> last_used_at;
  std::optional<UnixSeconds> revoked_at;
};

class AdminKeyStore {
 public:
  virtual ~AdminKeyStore() = default;

  enum class InsertResult { inserted, name_taken };
  virtual InsertResult insert(const AdminKey& key) = 0;
  // The key with this digest, revoked or not.
  virtual std::optional<AdminKey> find_by_hash(std::string_view key_hash) = 0;
  // Every key, revoked ones included, oldest first.
  virtual std::vector<AdminKey> list() = 0;
  // Revokes the active key of that name; false when there is none.
  virtual bool revoke(std::string_view name, UnixSeconds now) = 0;
  // last_used_at = now, unless it is already later than `unless_after`
  // (written at most once a minute: a busy back office is not one write
  // per request).
  virtual void record_use(const Uuid& id, UnixSeconds now, UnixSeconds unless_after) = 0;
};

// One account as the admin API lists it.
struct AccountSummary {
  User user;
  unsigned passkeys = 0;
};

class AccountDirectory {
 public:
  virtual ~AccountDirectory() = default;

  struct Query {
    std::string email;  // normalised; empty: every account
    bool prefix = false;
    std::optional<Uuid> before;  // only ids below this one (the cursor)
    unsigned limit = 50;
  };
  // Accounts newest first (by id: ids are UUIDv7), at most `limit`.
  virtual std::vector<AccountSummary> list(const Query& query) = 0;
  virtual std::optional<AccountSummary> find(const Uuid& id) = 0;
};

}  // namespace authd
