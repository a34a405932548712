#pragma once
// Secrets at rest under a server key: the TOTP secrets under
// MFA_ENCRYPTION_KEY. XChaCha20-Poly1305 (libsodium's IETF AEAD) with a
// random 192-bit nonce and associated data naming what the secret belongs
// to (for TOTP: the user id), so that a sealed value moved onto another
// row, by anyone who can write the database but lacks the key, does not
// open there (finding 16 of issue 17).
//
// Format: one version byte (2), the nonce, the ciphertext with its tag.
// Version 1, the format before (secretbox: XSalsa20-Poly1305, nonce in
// front, no version byte and no associated data), is read only by the
// start-up pass that re-seals it (auth/reseal.h).
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "ports/random.h"

namespace authd {

using SealingKey = std::array<unsigned char, 32>;

std::string seal(const SealingKey& key, std::string_view plaintext, Random& random,
                 std::string_view associated_data);
// nullopt when it was not sealed under this key with this associated data,
// was altered, or is not of the current format.
std::optional<std::string> unseal(const SealingKey& key, std::string_view sealed,
                                  std::string_view associated_data);

// The length of a sealed value of `plaintext_bytes` in the current format.
std::size_t sealed_size(std::size_t plaintext_bytes);

// Version 1 (secretbox, unbound): only for re-sealing old rows.
std::optional<std::string> unseal_version1(const SealingKey& key, std::string_view sealed);
std::string seal_version1(const SealingKey& key, std::string_view plaintext, Random& random);

}  // namespace authd
