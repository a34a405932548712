#include "auth/admin_keys.h"

#include <sodium.h>

#include <array>

#include "auth/ids.h"
#include "log/log.h"
#include "util/ascii.h"
#include "util/base64url.h"

namespace authd {
namespace {

constexpr std::array<std::string_view, 2> kScopeNames = {"users:read", "users:write"};
constexpr std::size_t kMaxKeyChars = 256;

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::string new_admin_key(Random& random) {
  return std::string(kAdminKeyPrefix) + base64url_encode(random.bytes(kAdminKeyRandomBytes));
}

bool looks_like_admin_key(std::string_view text) {
  if (!text.starts_with(kAdminKeyPrefix)) return false;
  const std::string_view rest = text.substr(kAdminKeyPrefix.size());
  if (rest.size() < 43 || rest.size() > kMaxKeyChars) return false;
  for (char c : rest)
    if (!is_base64url_char(c)) return false;
  return true;
}

std::string admin_key_digest(std::string_view key) {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                     reinterpret_cast<const unsigned char*>(key.data()), key.size());
  return digest;
}

bool valid_admin_key_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> canonical_scopes(std::string_view list) {
  std::array<bool, kScopeNames.size()> wanted{};
  while (true) {
    const auto comma = list.find(',');
    const std::string_view item = trim_ows(list.substr(0, comma));
    bool known = false;
    for (std::size_t i = 0; i < kScopeNames.size(); ++i) {
      if (item == kScopeNames[i]) wanted[i] = known = true;
    }
    if (!known) return std::nullopt;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  std::string out;
  for (std::size_t i = 0; i < kScopeNames.size(); ++i) {
    if (!wanted[i]) continue;
    if (!out.empty()) out += ',';
    out += kScopeNames[i];
  }
  return out;
}

std::string_view scope_name(AdminScope scope) {
  return kScopeNames[static_cast<std::size_t>(scope)];
}

bool scopes_grant(std::string_view stored, AdminScope needed) {
  bool read = false;
  bool write = false;
  while (!stored.empty()) {
    const auto comma = stored.find(',');
    const std::string_view item = stored.substr(0, comma);
    read |= item == scope_name(AdminScope::users_read);
    write |= item == scope_name(AdminScope::users_write);
    if (comma == std::string_view::npos) break;
    stored.remove_prefix(comma + 1);
  }
  return needed == AdminScope::users_read ? read || write : write;
}

std::variant<AdminKeys::Created, AdminKeys::CreateError> AdminKeys::create(
    std::string_view name, std::string_view scopes) {
  if (!valid_admin_key_name(name)) return CreateError::invalid_name;
  auto canonical = canonical_scopes(scopes);
  if (!canonical) return CreateError::unknown_scope;
  Created made;
  made.key = new_admin_key(random_);
  AdminKey& k = made.stored;
  k.id = new_uuid_v7(clock_, random_);
  k.name = std::string(name);
  k.key_hash = admin_key_digest(made.key);
  k.scopes = *canonical;
  k.created_at = clock_.now();
  if (store_.insert(k) == AdminKeyStore::InsertResult::name_taken) return CreateError::name_taken;
  log::audit("admin_key_created",
             {{"actor", "operator"}, {"admin_key", k.name}, {"scopes", k.scopes}});
  return made;
}

bool AdminKeys::revoke(std::string_view name) {
  if (!store_.revoke(name, clock_.now())) return false;
  log::audit("admin_key_revoked", {{"actor", "operator"}, {"admin_key", name}});
  return true;
}

}  // namespace authd
