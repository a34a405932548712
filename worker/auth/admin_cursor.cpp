#include "auth/admin_cursor.h"

#include <sodium.h>

#include "util/base64url.h"

namespace authd {
namespace {

constexpr char kVersion = '\x01';
constexpr std::size_t kMacBytes = 16;  // 128 bits: a forgery is a guess

std::string hmac(std::string_view key, std::string_view message) {
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

}  // namespace

AdminCursor::AdminCursor(std::string_view secret)
    : key_(hmac(secret, "authd admin API cursor v1")) {}

std::string AdminCursor::search_fingerprint(std::string_view email, bool prefix) {
  std::string s(prefix ? "prefix:" : "exact:");
  s += email;
  return s;
}

std::string AdminCursor::mac(const Uuid& last, std::string_view search) const {
  std::string message(1, kVersion);
  message += last.as_bytes();
  message += search;
  return hmac(key_, message).substr(0, kMacBytes);
}

std::string AdminCursor::make(const Uuid& last, std::string_view search) const {
  std::string raw(1, kVersion);
  raw += last.as_bytes();
  raw += mac(last, search);
  return base64url_encode(raw);
}

std::optional<Uuid> AdminCursor::read(std::string_view cursor, std::string_view search) const {
  if (cursor.size() > 64) return std::nullopt;
  auto raw = base64url_decode(cursor);
  if (!raw || raw->size() != 1 + 16 + kMacBytes || (*raw)[0] != kVersion) return std::nullopt;
  auto last = Uuid::from_bytes(std::string_view(*raw).substr(1, 16));
  if (!last) return std::nullopt;
  const std::string expected = mac(*last, search);
  if (sodium_memcmp(expected.data(), raw->data() + 17, kMacBytes) != 0) return std::nullopt;
  return last;
}

}  // namespace authd
