#include "auth/link_token.h"

#include <sodium.h>

#include <algorithm>

#include "util/base64url.h"

namespace authd {
namespace {

constexpr std::size_t kTokenBytes = 32;
constexpr std::size_t kTokenChars = (kTokenBytes * 4 + 2) / 3;  // 43, unpadded

}  // namespace

std::string new_link_token(Random& random) {
  return base64url_encode(random.bytes(kTokenBytes));
}

bool is_link_token_shape(std::string_view token) {
  return token.size() == kTokenChars && std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
         });
}

std::string link_token_digest(std::string_view token) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return out;
}

}  // namespace authd
