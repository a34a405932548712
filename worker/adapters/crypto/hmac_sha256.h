#pragma once
// HMAC-SHA-256 under one fixed key, for the access tokens' HS256 signature
// (made at every login, checked at every bearer request). OpenSSL's: its
// SHA-256 uses the CPU's SHA extensions where there are some (about 5x
// faster than libsodium's portable code here), and the key's inner and
// outer pads are computed once, when the key is set, not per token.
#include <openssl/types.h>

#include <array>
#include <memory>
#include <string_view>

namespace authd {

class HmacSha256 {
 public:
  static constexpr std::size_t kBytes = 32;
  using Mac = std::array<unsigned char, kBytes>;

  // Throws std::runtime_error when OpenSSL cannot set the key up.
  explicit HmacSha256(std::string_view key);

  // Not thread-safe: one context, reset per call (a worker serves one
  // request at a time).
  Mac mac(std::string_view input) const;

 private:
  struct Free {
    void operator()(EVP_MAC_CTX* ctx) const noexcept;
  };
  std::unique_ptr<EVP_MAC_CTX, Free> ctx_;
};

}  // namespace authd
