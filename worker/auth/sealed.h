#pragma once
// Secrets at rest under a server key (libsodium secretbox: XSalsa20-Poly1305,
// random nonce stored in front): the TOTP secrets under MFA_ENCRYPTION_KEY.
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "ports/random.h"

namespace authd {

using SealingKey = std::array<unsigned char, 32>;

std::string seal(const SealingKey& key, std::string_view plaintext, Random& random);
// nullopt when it was not sealed under this key or was altered.
std::optional<std::string> unseal(const SealingKey& key, std::string_view sealed);

}  // namespace authd
