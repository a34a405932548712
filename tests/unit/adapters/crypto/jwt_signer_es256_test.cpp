// ES256 signing, key ids and the JWKS; the algorithm-confusion attacks
// libjwt leaves open (NOTES-deps.md) must fail here.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>
#include <sodium.h>

#include <memory>

#include "adapters/crypto/jwt_signer.h"
#include "util/base64url.h"

namespace authd {
namespace {

constexpr UnixSeconds kNow = 1'800'000'000;

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};

KeyPair new_p256_key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  EXPECT_NE(key, nullptr);
  auto pem_of = [&](bool priv) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (priv) {
      PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    } else {
      PEM_write_bio_PUBKEY(bio, key);
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return out;
  };
  KeyPair pair{pem_of(true), pem_of(false)};
  EVP_PKEY_free(key);
  return pair;
}

AccessClaims claims() {
  AccessClaims c;
  c.sub = "u";
  c.email = "a@b.co";
  c.sid = "s";
  c.jti = "j";
  c.amr = {"pwd", "otp"};
  c.iat = c.nbf = c.auth_time = kNow;
  c.exp = kNow + 900;
  return c;
}

JwtSettings es256(const std::string& private_pem, const std::string& previous_public = "") {
  JwtSettings s;
  s.algorithm = "ES256";
  s.private_key_pem = private_pem;
  s.previous_public_key_pem = previous_public;
  return s;
}

class Es256Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(Es256Test, SignsAndVerifiesWithKidFromTheThumbprint) {
  auto key = new_p256_key();
  JwtSigner signer(es256(key.private_pem));
  auto token = signer.sign(claims());
  auto header = *base64url_decode(token.substr(0, token.find('.')));
  EXPECT_NE(header.find("\"alg\":\"ES256\""), std::string::npos) << header;
  EXPECT_NE(header.find("\"kid\":\"" + signer.key_id() + "\""), std::string::npos);
  auto verified = signer.verify(token, kNow);
  ASSERT_TRUE(verified);
  EXPECT_EQ(verified->amr, (std::vector<std::string>{"pwd", "otp"}));
  // The JOSE signature is R||S, 64 bytes (not DER).
  auto sig = base64url_decode(token.substr(token.rfind('.') + 1));
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), 64u);
}

TEST_F(Es256Test, JwksPublishesThePublicKeyOnly) {
  auto key = new_p256_key();
  JwtSigner signer(es256(key.private_pem));
  rapidjson::Document jwks;
  jwks.Parse(signer.jwks_json().c_str());
  ASSERT_TRUE(jwks.IsObject());
  ASSERT_EQ(jwks["keys"].Size(), 1u);
  const auto& k = jwks["keys"][0];
  EXPECT_STREQ(k["kty"].GetString(), "EC");
  EXPECT_STREQ(k["crv"].GetString(), "P-256");
  EXPECT_STREQ(k["alg"].GetString(), "ES256");
  EXPECT_STREQ(k["use"].GetString(), "sig");
  EXPECT_EQ(std::string(k["kid"].GetString()), signer.key_id());
  EXPECT_FALSE(k.HasMember("d")) << "never the private part";
  EXPECT_EQ(base64url_decode(k["x"].GetString())->size(), 32u);
}

TEST_F(Es256Test, RefusesHs256SignedWithThePublicKeyPem) {
  auto key = new_p256_key();
  JwtSigner signer(es256(key.private_pem));
  // The classic confusion: an HMAC keyed by the (public) PEM text.
  std::string header =
      base64url_encode(R"({"alg":"HS256","typ":"at+jwt","kid":")" + signer.key_id() + "\"}");
  std::string payload = base64url_encode(
      R"({"iss":"auth","aud":"auth","sub":"u","email":"e","sid":"s","jti":"j",)"
      R"("email_verified":true,"amr":["pwd"],"iat":1800000000,"nbf":1800000000,"exp":1800000900,)"
      R"("auth_time":1800000000})");
  std::string input = header + "." + payload;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.public_pem.data()),
                              key.public_pem.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(input.data()),
                                input.size());
  crypto_auth_hmacsha256_final(&st, mac);
  std::string forged =
      input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), sizeof mac));
  EXPECT_FALSE(signer.verify(forged, kNow));
}

TEST_F(Es256Test, PreviousKeyStillVerifiesDuringRotation) {
  auto old_key = new_p256_key();
  auto new_key = new_p256_key();
  JwtSigner old_signer(es256(old_key.private_pem));
  auto old_token = old_signer.sign(claims());
  JwtSigner rotated(es256(new_key.private_pem, old_key.public_pem));
  EXPECT_TRUE(rotated.verify(old_token, kNow));
  EXPECT_TRUE(rotated.verify(rotated.sign(claims()), kNow));
  JwtSigner without_previous(es256(new_key.private_pem));
  EXPECT_FALSE(without_previous.verify(old_token, kNow));
  rapidjson::Document jwks;
  jwks.Parse(rotated.jwks_json().c_str());
  EXPECT_EQ(jwks["keys"].Size(), 2u);
}

// Finding 8: the (r, n - s) twin of an issued token verified too. Tokens
// are signed with the low S and a high S is refused.
TEST_F(Es256Test, Finding08SignaturesAreLowSAndTheHighSTwinIsRefused) {
  auto key = new_p256_key();
  JwtSigner signer(es256(key.private_pem));
  std::unique_ptr<BIGNUM, decltype(&BN_free)> n(nullptr, BN_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> half(BN_new(), BN_free);
  {
    BIGNUM* raw = nullptr;
    ASSERT_NE(BN_hex2bn(&raw, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"),
              0);
    n.reset(raw);
    ASSERT_EQ(BN_rshift1(half.get(), n.get()), 1);
  }
  // Random nonces: about half of 40 signatures would be high-S unless the
  // signer normalises them.
  for (int i = 0; i < 40; ++i) {
    auto c = claims();
    c.jti = "j" + std::to_string(i);
    const std::string token = signer.sign(c);
    const std::string input = token.substr(0, token.rfind('.'));
    auto sig = base64url_decode(token.substr(token.rfind('.') + 1));
    ASSERT_TRUE(sig);
    ASSERT_EQ(sig->size(), 64u);
    std::unique_ptr<BIGNUM, decltype(&BN_free)> s(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(sig->data()) + 32, 32, nullptr), BN_free);
    EXPECT_LE(BN_cmp(s.get(), half.get()), 0) << "signature " << i << " has a high S";
    ASSERT_TRUE(signer.verify(token, kNow));

    std::unique_ptr<BIGNUM, decltype(&BN_free)> twin_s(BN_new(), BN_free);
    ASSERT_EQ(BN_sub(twin_s.get(), n.get(), s.get()), 1);
    std::string twin_sig = sig->substr(0, 32);
    twin_sig.resize(64);
    ASSERT_EQ(
        BN_bn2binpad(twin_s.get(), reinterpret_cast<unsigned char*>(twin_sig.data()) + 32, 32), 32);
    const std::string twin = input + "." + base64url_encode(twin_sig);
    EXPECT_FALSE(signer.verify(twin, kNow)) << "the (r, n - s) twin of signature " << i;
  }
}

TEST_F(Es256Test, RefusesWrongKeys) {
  EXPECT_THROW(JwtSigner(es256("not a pem")), std::invalid_argument);
  EVP_PKEY* p384 = EVP_EC_gen("P-384");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, p384, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(p384);
  EXPECT_THROW(JwtSigner(es256(pem)), std::invalid_argument);
  JwtSettings hs;
  hs.hmac_secret = std::string(32, 'k');
  EXPECT_EQ(JwtSigner(hs).jwks_json(), "") << "no JWKS for a secret key";
}

}  // namespace
}  // namespace authd
