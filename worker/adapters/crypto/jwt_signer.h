#pragma once
#include <memory>
#include <string>

#include "ports/token_signer.h"

namespace authd {

struct JwtSettings {
  std::string algorithm = "HS256";  // pinned: never read from a token
  std::string hmac_secret;          // HS256: SECRET_KEY (>= 32 bytes)
  std::string issuer = "auth";
  std::string audience = "auth";
  UnixSeconds leeway_s = 30;        // allowed clock skew on exp/nbf/iat
};

// Access tokens with libjwt. libjwt verifies whatever `alg` a token names and
// checks no claim (NOTES-deps.md), so everything it leaves open is pinned
// here: the algorithm, the key, `typ`, and every claim of API.md.
class JwtSigner final : public TokenSigner {
 public:
  explicit JwtSigner(JwtSettings settings);

  std::string sign(const AccessClaims& claims) override;
  std::optional<AccessClaims> verify(std::string_view token, UnixSeconds now) override;

  const std::string& key_id() const { return kid_; }

 private:
  JwtSettings settings_;
  std::string kid_;
};

}  // namespace authd
