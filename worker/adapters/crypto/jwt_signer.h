#pragma once
#include <memory>
#include <string>
#include <vector>

#include <jwt.h>

#include "ports/token_signer.h"

namespace authd {

struct JwtSettings {
  std::string algorithm = "HS256";  // pinned: never read from a token
  std::string hmac_secret;          // HS256: SECRET_KEY (>= 32 bytes)
  std::string private_key_pem;      // ES256: a P-256 private key
  std::string previous_public_key_pem;  // ES256: still verified during rotation
  std::string issuer = "auth";
  std::string audience = "auth";
  UnixSeconds leeway_s = 30;  // allowed clock skew on exp/nbf/iat
};

// Access tokens with libjwt. libjwt verifies whatever `alg` a token names and
// checks no claim (NOTES-deps.md), so everything it leaves open is pinned
// here: the algorithm, the key (chosen by `kid` among ours), `typ`, and every
// claim of API.md. HS256 (the default) or ES256; RSA PKCS#1 v1.5 is not
// offered (ASVS 5.0 11.3.x disallows it).
class JwtSigner final : public TokenSigner {
 public:
  // Throws std::invalid_argument with the reason for a bad key or algorithm.
  explicit JwtSigner(JwtSettings settings);

  std::string sign(const AccessClaims& claims) override;
  std::optional<AccessClaims> verify(std::string_view token, UnixSeconds now) override;

  const std::string& key_id() const { return signing_kid_; }
  // The JWK Set of the public keys (ES256), or "" for HS256.
  std::string jwks_json() const;

 private:
  struct VerificationKey {
    std::string kid;
    std::string key;  // HS256 secret, or ES256 public key PEM
    std::string jwk;  // ES256: the public JWK (JSON object), for the JWKS
  };

  jwt_alg_t algorithm() const;
  const std::string& signing_key() const;

  JwtSettings settings_;
  std::string signing_kid_;
  std::vector<VerificationKey> keys_;
};

}  // namespace authd
