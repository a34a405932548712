#include "auth/sealed.h"

#include <sodium.h>

namespace authd {
namespace {

constexpr unsigned char kVersion = 2;
constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::size_t sealed_size(std::size_t plaintext_bytes) {
  return 1 + kNonceBytes + plaintext_bytes + kTagBytes;
}

std::string seal(const SealingKey& key, std::string_view plaintext, Random& random,
                 std::string_view associated_data) {
  static_assert(sizeof(SealingKey) == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  std::string out(1, static_cast<char>(kVersion));
  out += random.bytes(kNonceBytes);
  out.resize(sealed_size(plaintext.size()));
  auto* base = reinterpret_cast<unsigned char*>(out.data());
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(base + 1 + kNonceBytes, &written, bytes(plaintext),
                                             plaintext.size(), bytes(associated_data),
                                             associated_data.size(), nullptr, base + 1, key.data());
  return out;
}

std::optional<std::string> unseal(const SealingKey& key, std::string_view sealed,
                                  std::string_view associated_data) {
  if (sealed.size() < sealed_size(0) || static_cast<unsigned char>(sealed[0]) != kVersion) {
    return std::nullopt;
  }
  const unsigned char* nonce = bytes(sealed) + 1;
  const std::string_view box = sealed.substr(1 + kNonceBytes);
  std::string out(box.size() - kTagBytes, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &written, nullptr, bytes(box), box.size(),
          bytes(associated_data), associated_data.size(), nonce, key.data()) != 0) {
    return std::nullopt;
  }
  return out;
}

std::string seal_version1(const SealingKey& key, std::string_view plaintext, Random& random) {
  static_assert(sizeof(SealingKey) == crypto_secretbox_KEYBYTES);
  std::string out = random.bytes(crypto_secretbox_NONCEBYTES);
  out.resize(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size());
  auto* base = reinterpret_cast<unsigned char*>(out.data());
  crypto_secretbox_easy(base + crypto_secretbox_NONCEBYTES, bytes(plaintext), plaintext.size(),
                        base, key.data());
  return out;
}

std::optional<std::string> unseal_version1(const SealingKey& key, std::string_view sealed) {
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return std::nullopt;
  const auto* base = bytes(sealed);
  std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(
          reinterpret_cast<unsigned char*>(out.data()), base + crypto_secretbox_NONCEBYTES,
          sealed.size() - crypto_secretbox_NONCEBYTES, base, key.data()) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace authd
