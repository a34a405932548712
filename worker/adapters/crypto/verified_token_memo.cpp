#include "adapters/crypto/verified_token_memo.h"

#include <cstring>
#include <stdexcept>

namespace authd {

VerifiedTokenMemo::VerifiedTokenMemo(std::size_t capacity) : capacity_(capacity) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not initialise");
  randombytes_buf(key_.data(), key_.size());
  entries_.reserve(capacity_);
}

std::uint64_t VerifiedTokenMemo::tag_of(std::string_view token) const {
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                   key_.data());
  std::uint64_t tag;
  std::memcpy(&tag, out, sizeof tag);
  return tag;
}

const AccessClaims* VerifiedTokenMemo::find(std::string_view token) {
  if (capacity_ == 0) return nullptr;
  const std::uint64_t tag = tag_of(token);
  for (Entry& e : entries_) {
    // Only a token with the same keyed tag reaches the byte comparison, and
    // no one without the process's key can make one (2^-64 by chance): an
    // early-exit comparison tells a guesser nothing.
    if (e.tag == tag && e.token.size() == token.size() &&
        std::memcmp(e.token.data(), token.data(), token.size()) == 0) {
      e.last_use = ++uses_;
      return &e.claims;
    }
  }
  return nullptr;
}

void VerifiedTokenMemo::remember(std::string_view token, const AccessClaims& claims) {
  if (capacity_ == 0) return;
  Entry* slot = nullptr;
  if (entries_.size() < capacity_) {
    slot = &entries_.emplace_back();
  } else {
    slot = &entries_.front();
    for (Entry& e : entries_)
      if (e.last_use < slot->last_use) slot = &e;
  }
  slot->tag = tag_of(token);
  slot->token.assign(token);
  slot->claims = claims;
  slot->last_use = ++uses_;
}

}  // namespace authd
