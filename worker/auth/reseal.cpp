#include "auth/reseal.h"

#include "auth/totp.h"
#include "log/log.h"

namespace authd {
namespace {

constexpr unsigned kPage = 200;

enum class Upgrade { kept, resealed, unreadable };

// One sealed value in the current format, bound to `owner`.
Upgrade upgrade(std::string& sealed, const SealingKey& key, Random& random,
                std::string_view owner) {
  if (sealed.empty() || unseal(key, sealed, owner)) return Upgrade::kept;
  auto plain = unseal_version1(key, sealed);
  if (!plain) return Upgrade::unreadable;
  sealed = seal(key, *plain, random, owner);
  return Upgrade::resealed;
}

}  // namespace

ResealReport reseal_totp_secrets(MfaStore& mfa, const SealingKey& key, Random& random) {
  ResealReport report;
  const std::size_t current_size = sealed_size(totp::kSecretBytes);
  Uuid after;  // the nil id: before every UUIDv7
  while (true) {
    const auto rows = mfa.sealed_not_shaped(after, current_size, 2, kPage);
    for (const SealedTotp& row : rows) {
      SealedTotp next = row;
      const std::string_view owner = row.user_id.as_bytes();
      unsigned changed = 0;
      for (std::string* value : {&next.secret_sealed, &next.pending_sealed}) {
        switch (upgrade(*value, key, random, owner)) {
          case Upgrade::resealed:
            ++changed;
            break;
          case Upgrade::unreadable:
            ++report.unreadable;
            log::warn("mfa_secret_unreadable", {{"user_id", row.user_id.to_string()}});
            break;
          case Upgrade::kept:
            break;
        }
      }
      if (changed > 0 && mfa.replace_sealed(row, next)) report.resealed += changed;
    }
    if (rows.size() < kPage) break;
    after = rows.back().user_id;
  }
  return report;
}

}  // namespace authd
