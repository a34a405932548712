#include "auth/sealed.h"

#include <sodium.h>

namespace authd {

std::string seal(const SealingKey& key, std::string_view plaintext, Random& random) {
  static_assert(sizeof(SealingKey) == crypto_secretbox_KEYBYTES);
  std::string out = random.bytes(crypto_secretbox_NONCEBYTES);
  out.resize(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size());
  auto* base = reinterpret_cast<unsigned char*>(out.data());
  crypto_secretbox_easy(base + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        base, key.data());
  return out;
}

std::optional<std::string> unseal(const SealingKey& key, std::string_view sealed) {
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return std::nullopt;
  const auto* base = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(
          reinterpret_cast<unsigned char*>(out.data()), base + crypto_secretbox_NONCEBYTES,
          sealed.size() - crypto_secretbox_NONCEBYTES, base, key.data()) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace authd
