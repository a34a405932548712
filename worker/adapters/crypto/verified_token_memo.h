#pragma once
// The access tokens a worker verified lately, by their exact bytes. A client
// sends the same access token with every request for its whole lifetime (15
// minutes by default), so its signature and claims are checked once per
// token and worker, not once per request (an ES256 signature check alone
// costs more than the rest of a token check).
//
// Only what the signature vouches for is kept: the caller still checks the
// times (exp, nbf, iat) against the clock on every use, and the session is
// still read from the database on every request, so a revoked session or an
// expired token is refused at once, memo or not.
//
// Lookups are keyed by a SipHash of the token under a random per-process
// key, and only a token with the same tag is compared byte by byte: an
// attacker's guesses cannot be steered into comparisons against the tokens
// held here (no timing to learn from).
#include <sodium.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ports/token_signer.h"

namespace authd {

class VerifiedTokenMemo {
 public:
  explicit VerifiedTokenMemo(std::size_t capacity = 64);

  // The claims of `token` when it is held here (it becomes the most recently
  // used), else null. The pointer is valid until the next remember().
  const AccessClaims* find(std::string_view token);
  // Keeps `token` (whose signature and claims verified); the least recently
  // used one makes room.
  void remember(std::string_view token, const AccessClaims& claims);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint64_t tag = 0;
    std::string token;
    AccessClaims claims;
    std::uint64_t last_use = 0;
  };
  std::uint64_t tag_of(std::string_view token) const;

  std::array<unsigned char, crypto_shorthash_KEYBYTES> key_{};
  std::vector<Entry> entries_;
  std::size_t capacity_;
  std::uint64_t uses_ = 0;
};

}  // namespace authd
