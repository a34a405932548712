#include "auth/refresh_token.h"

#include <sodium.h>

#include <array>

#include "util/base64url.h"

namespace authd {
namespace {

constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kTokenBytes = 16 + kSecretBytes;

std::array<unsigned char, crypto_secretbox_KEYBYTES> sealing_key(std::string_view spent_token) {
  // HMAC keyed by the token over a fixed label: a different function from
  // the stored SHA-256 digest, so the digest does not give the key.
  static constexpr char kLabel[] = "authd refresh seal v1";
  std::array<unsigned char, crypto_secretbox_KEYBYTES> key{};
  static_assert(crypto_secretbox_KEYBYTES == crypto_auth_hmacsha256_BYTES);
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(spent_token.data()),
                              spent_token.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(kLabel),
                                sizeof kLabel - 1);
  crypto_auth_hmacsha256_final(&st, key.data());
  sodium_memzero(&st, sizeof st);
  return key;
}

}  // namespace

std::string new_refresh_token(const Uuid& session_id, Random& random) {
  std::string raw(session_id.as_bytes());
  raw += random.bytes(kSecretBytes);
  return base64url_encode(raw);
}

std::optional<Uuid> refresh_token_session(std::string_view token) {
  if (token.size() != (kTokenBytes * 4 + 2) / 3) return std::nullopt;
  auto raw = base64url_decode(token);
  if (!raw || raw->size() != kTokenBytes) return std::nullopt;
  return Uuid::from_bytes(std::string_view(*raw).substr(0, 16));
}

std::string refresh_token_digest(std::string_view token) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return out;
}

std::string seal_next_refresh(std::string_view next_token, std::string_view spent_token,
                              Random& random) {
  auto key = sealing_key(spent_token);
  std::string out = random.bytes(crypto_secretbox_NONCEBYTES);
  out.resize(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + next_token.size());
  auto* base = reinterpret_cast<unsigned char*>(out.data());
  crypto_secretbox_easy(base + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(next_token.data()),
                        next_token.size(), base, key.data());
  sodium_memzero(key.data(), key.size());
  return out;
}

std::optional<std::string> unseal_next_refresh(std::string_view sealed,
                                               std::string_view spent_token) {
  if (sealed.size() <= crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return std::nullopt;
  auto key = sealing_key(spent_token);
  const auto* base = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  int rc = crypto_secretbox_open_easy(
      reinterpret_cast<unsigned char*>(out.data()), base + crypto_secretbox_NONCEBYTES,
      sealed.size() - crypto_secretbox_NONCEBYTES, base, key.data());
  sodium_memzero(key.data(), key.size());
  if (rc != 0) return std::nullopt;
  return out;
}

}  // namespace authd
