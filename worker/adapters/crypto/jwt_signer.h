#pragma once
#include <openssl/types.h>

#include <memory>
#include <string>
#include <vector>

#include "adapters/crypto/hmac_sha256.h"
#include "adapters/crypto/verified_token_memo.h"
#include "ports/token_signer.h"

namespace authd {

struct JwtSettings {
  std::string algorithm = "HS256";      // pinned: never read from a token
  std::string hmac_secret;              // HS256: SECRET_KEY (>= 32 bytes)
  std::string private_key_pem;          // ES256: a P-256 private key
  std::string previous_public_key_pem;  // ES256: still verified during rotation
  std::string issuer = "auth";
  std::string audience = "auth";
  UnixSeconds leeway_s = 30;  // allowed clock skew on exp/nbf/iat
};

// Access tokens as RFC 9068 JWTs (JWS compact form), HS256 (the default) or
// ES256; RSA PKCS#1 v1.5 is not offered (ASVS 5.0 disallows it).
//
// Why not libjwt: Debian's libjwt 1.10.2 rewrites every header's `typ` to
// "JWT" when it encodes, and its decoder refuses any other `typ`, so it can
// neither make nor accept the `at+jwt` tokens API.md requires. The JWS here
// is small: OpenSSL's HMAC-SHA-256 and ECDSA, with everything a
// JWT library would leave open pinned: the algorithm, the key (chosen by
// `kid` among ours), `typ`, no `crit`, strict JSON, and every claim.
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
    std::shared_ptr<HmacSha256> hmac;      // HS256: SECRET_KEY, pads computed once
    std::shared_ptr<EVP_PKEY> public_key;  // ES256
    std::string jwk;                       // ES256: the public JWK, for the JWKS
    std::string header_segment;            // the encoded header sign() makes with it
  };
  // The key a token's (encoded) header names, or null when the header is
  // not one we accept.
  const VerificationKey* key_for_header(std::string_view segment) const;
  // Everything but the times: header, signature, issuer, audience, claims.
  std::optional<AccessClaims> verify_signed(std::string_view token);
  // exp, nbf and iat against `now`, with the allowed skew.
  bool times_valid(const AccessClaims& claims, UnixSeconds now) const;
  bool signature_valid(const VerificationKey& key, std::string_view signing_input,
                       std::string_view signature) const;

  JwtSettings settings_;
  std::string signing_kid_;
  std::shared_ptr<EVP_PKEY> signing_key_;  // ES256
  std::vector<VerificationKey> keys_;
  // Tokens verified lately (their times are checked on every use).
  VerifiedTokenMemo memo_;
};

}  // namespace authd
