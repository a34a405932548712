#pragma once
// In-memory fakes of the admin API's ports: its keys, and the directory of
// accounts (over the in-memory user store, newest first by id).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "fakes/fakes.h"
#include "ports/admin_store.h"
#include "ports/passkey_store.h"

namespace authd::testing {

class InMemoryAdminKeyStore final : public AdminKeyStore {
 public:
  InsertResult insert(const AdminKey& key) override {
    for (const auto& k : keys)
      if (k.name == key.name && !k.revoked_at) return InsertResult::name_taken;
    keys.push_back(key);
    return InsertResult::inserted;
  }
  std::optional<AdminKey> find_by_hash(std::string_view hash) override {
    ++lookups;
    for (const auto& k : keys)
      if (k.key_hash == hash) return k;
    return std::nullopt;
  }
  std::vector<AdminKey> list() override { return keys; }
  bool revoke(std::string_view name, UnixSeconds now) override {
    for (auto& k : keys) {
      if (k.name == name && !k.revoked_at) {
        k.revoked_at = now;
        return true;
      }
    }
    return false;
  }
  void record_use(const Uuid& id, UnixSeconds now, UnixSeconds unless_after) override {
    for (auto& k : keys) {
      if (k.id == id && (!k.last_used_at || *k.last_used_at <= unless_after)) {
        k.last_used_at = now;
        ++use_writes;
      }
    }
  }
  std::vector<AdminKey> keys;
  int lookups = 0;
  int use_writes = 0;
};

class InMemoryAccountDirectory final : public AccountDirectory {
 public:
  InMemoryAccountDirectory(InMemoryUserStore& users, PasskeyStore& passkeys)
      : users_(users), passkeys_(passkeys) {}
  std::vector<AccountSummary> list(const Query& q) override {
    std::vector<AccountSummary> out;
    for (auto it = users_.users.rbegin(); it != users_.users.rend(); ++it) {
      const User& u = it->second;
      if (q.before && !(u.id < *q.before)) continue;
      if (!q.email.empty()) {
        const bool match = q.prefix ? u.email.starts_with(q.email) : u.email == q.email;
        if (!match) continue;
      }
      out.push_back({u, passkeys_.count(u.id)});
      if (out.size() == q.limit) break;
    }
    return out;
  }
  std::optional<AccountSummary> find(const Uuid& id) override {
    auto u = users_.find_by_id(id);
    if (!u) return std::nullopt;
    return AccountSummary{*u, passkeys_.count(id)};
  }

 private:
  InMemoryUserStore& users_;
  PasskeyStore& passkeys_;
};

}  // namespace authd::testing
