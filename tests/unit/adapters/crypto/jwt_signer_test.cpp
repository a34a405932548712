#include "adapters/crypto/jwt_signer.h"

#include <gtest/gtest.h>
#include <jwt.h>
#include <sodium.h>

#include <cstdlib>
#include <memory>

#include "util/base64url.h"

namespace authd {
namespace {

const std::string kSecret(40, 's');
constexpr UnixSeconds kNow = 1'800'000'000;

JwtSettings settings() {
  JwtSettings s;
  s.hmac_secret = kSecret;
  return s;
}

AccessClaims sample_claims() {
  AccessClaims c;
  c.sub = "0190b3c4-0000-7000-8000-000000000001";
  c.email = "ann@example.com";
  c.sid = "0190b3c4-0000-7000-8000-000000000002";
  c.jti = "jti-1";
  c.amr = {"pwd"};
  c.iat = kNow;
  c.nbf = kNow;
  c.exp = kNow + 900;
  c.auth_time = kNow;
  return c;
}

// Builds a token with libjwt directly, to try what our signer never makes.
std::string forge(const std::string& claims_json, jwt_alg_t alg, const std::string& key,
                  const std::string& typ, const std::string& kid) {
  jwt_t* raw = nullptr;
  EXPECT_EQ(jwt_new(&raw), 0);
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, jwt_free);
  EXPECT_EQ(jwt_add_grants_json(jwt.get(), claims_json.c_str()), 0);
  if (!typ.empty()) EXPECT_EQ(jwt_add_header(jwt.get(), "typ", typ.c_str()), 0);
  if (!kid.empty()) EXPECT_EQ(jwt_add_header(jwt.get(), "kid", kid.c_str()), 0);
  EXPECT_EQ(jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<int>(key.size())),
            0);
  char* out = jwt_encode_str(jwt.get());
  std::string token(out ? out : "");
  std::free(out);
  return token;
}

std::string claims_json(UnixSeconds iat, const std::string& extra_or_override = "") {
  std::string base = R"("iss":"auth","aud":"auth","sub":"u1","email":"a@b.co","sid":"s1",)"
                     R"("jti":"j1","amr":["pwd"],"auth_time":)" +
                     std::to_string(iat) + ",\"iat\":" + std::to_string(iat) +
                     ",\"nbf\":" + std::to_string(iat) + ",\"exp\":" + std::to_string(iat + 900);
  return "{" + base + extra_or_override + "}";
}

class JwtSignerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }
  JwtSigner signer{settings()};
};

TEST_F(JwtSignerTest, RoundTripKeepsEveryClaim) {
  auto token = signer.sign(sample_claims());
  auto claims = signer.verify(token, kNow + 10);
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->sub, sample_claims().sub);
  EXPECT_EQ(claims->email, "ann@example.com");
  EXPECT_EQ(claims->sid, sample_claims().sid);
  EXPECT_EQ(claims->jti, "jti-1");
  EXPECT_EQ(claims->amr, std::vector<std::string>{"pwd"});
  EXPECT_EQ(claims->iat, kNow);
  EXPECT_EQ(claims->nbf, kNow);
  EXPECT_EQ(claims->exp, kNow + 900);
  EXPECT_EQ(claims->auth_time, kNow);
}

TEST_F(JwtSignerTest, HeaderHasTypeAndKeyId) {
  auto token = signer.sign(sample_claims());
  auto header = base64url_decode(token.substr(0, token.find('.')));
  ASSERT_TRUE(header);
  EXPECT_NE(header->find("\"typ\":\"at+jwt\""), std::string::npos) << *header;
  EXPECT_NE(header->find("\"alg\":\"HS256\""), std::string::npos) << *header;
  EXPECT_NE(header->find("\"kid\":\"" + signer.key_id() + "\""), std::string::npos) << *header;
}

TEST_F(JwtSignerTest, RefusesTamperedPayloadAndSignature) {
  auto token = signer.sign(sample_claims());
  auto first_dot = token.find('.');
  auto second_dot = token.find('.', first_dot + 1);
  std::string payload = *base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  auto pos = payload.find("ann@");
  payload.replace(pos, 3, "bob");
  std::string tampered =
      token.substr(0, first_dot + 1) + base64url_encode(payload) + token.substr(second_dot);
  EXPECT_FALSE(signer.verify(tampered, kNow));
  std::string bad_sig = token;
  bad_sig.back() = bad_sig.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(signer.verify(bad_sig, kNow));
}

TEST_F(JwtSignerTest, RefusesAlgNone) {
  std::string header =
      base64url_encode(R"({"alg":"none","typ":"at+jwt","kid":")" + signer.key_id() + "\"}");
  std::string payload = base64url_encode(claims_json(kNow));
  EXPECT_FALSE(signer.verify(header + "." + payload + ".", kNow));
  EXPECT_FALSE(signer.verify(header + "." + payload + ".AAAA", kNow));
}

TEST_F(JwtSignerTest, RefusesOtherAlgorithmsEvenWithOurKey) {
  auto hs512 = forge(claims_json(kNow), JWT_ALG_HS512, kSecret, "at+jwt", signer.key_id());
  ASSERT_FALSE(hs512.empty());
  EXPECT_FALSE(signer.verify(hs512, kNow));
  auto hs384 = forge(claims_json(kNow), JWT_ALG_HS384, kSecret, "at+jwt", signer.key_id());
  EXPECT_FALSE(signer.verify(hs384, kNow));
}

TEST_F(JwtSignerTest, AcceptsOnlyAccessTokenTypes) {
  auto good =
      forge(claims_json(kNow), JWT_ALG_HS256, kSecret, "application/AT+JWT", signer.key_id());
  EXPECT_TRUE(signer.verify(good, kNow));
  // libjwt adds typ "JWT" when none is given.
  auto plain_jwt = forge(claims_json(kNow), JWT_ALG_HS256, kSecret, "", signer.key_id());
  EXPECT_FALSE(signer.verify(plain_jwt, kNow));
  auto other = forge(claims_json(kNow), JWT_ALG_HS256, kSecret, "id+jwt", signer.key_id());
  EXPECT_FALSE(signer.verify(other, kNow));
}

TEST_F(JwtSignerTest, RefusesAnotherKeyOrKeyId) {
  auto other_key =
      forge(claims_json(kNow), JWT_ALG_HS256, std::string(40, 't'), "at+jwt", signer.key_id());
  EXPECT_FALSE(signer.verify(other_key, kNow));
  auto other_kid = forge(claims_json(kNow), JWT_ALG_HS256, kSecret, "at+jwt", "other");
  EXPECT_FALSE(signer.verify(other_kid, kNow));
}

TEST_F(JwtSignerTest, ChecksTimeClaimsWithThirtySecondsOfSkew) {
  auto token = signer.sign(sample_claims());
  EXPECT_TRUE(signer.verify(token, kNow + 900 + 29));
  EXPECT_FALSE(signer.verify(token, kNow + 900 + 30));
  EXPECT_TRUE(signer.verify(token, kNow - 30));
  EXPECT_FALSE(signer.verify(token, kNow - 31));
}

TEST_F(JwtSignerTest, ChecksIssuerAndAudience) {
  auto wrong_iss = forge(claims_json(kNow, R"(,"iss":"evil")"), JWT_ALG_HS256, kSecret, "at+jwt",
                         signer.key_id());
  EXPECT_FALSE(signer.verify(wrong_iss, kNow));
  auto wrong_aud = forge(claims_json(kNow, R"(,"aud":"other")"), JWT_ALG_HS256, kSecret, "at+jwt",
                         signer.key_id());
  EXPECT_FALSE(signer.verify(wrong_aud, kNow));
  auto aud_list = forge(claims_json(kNow, R"(,"aud":["x","auth"])"), JWT_ALG_HS256, kSecret,
                        "at+jwt", signer.key_id());
  EXPECT_TRUE(signer.verify(aud_list, kNow));
}

TEST_F(JwtSignerTest, RequiresEveryClaim) {
  for (const char* claim :
       {"iss", "aud", "sub", "email", "sid", "jti", "iat", "nbf", "exp", "auth_time", "amr"}) {
    std::string json = claims_json(kNow);
    auto pos = json.find(std::string("\"") + claim + "\":");
    ASSERT_NE(pos, std::string::npos) << claim;
    // Rename the member so it is missing.
    json.replace(pos + 1, std::strlen(claim), std::string("x_") + claim);
    auto token = forge(json, JWT_ALG_HS256, kSecret, "at+jwt", signer.key_id());
    EXPECT_FALSE(signer.verify(token, kNow)) << "accepted without " << claim;
  }
}

TEST_F(JwtSignerTest, RefusesWrongClaimTypes) {
  auto string_exp = forge(claims_json(kNow, R"(,"exp":"9999999999")"), JWT_ALG_HS256, kSecret,
                          "at+jwt", signer.key_id());
  EXPECT_FALSE(signer.verify(string_exp, kNow));
  auto amr_string = forge(claims_json(kNow, R"(,"amr":"pwd")"), JWT_ALG_HS256, kSecret, "at+jwt",
                          signer.key_id());
  EXPECT_FALSE(signer.verify(amr_string, kNow));
}

TEST_F(JwtSignerTest, RefusesGarbageWithoutCrashing) {
  for (std::string garbage :
       {std::string(""), std::string("."), std::string(".."), std::string("a.b"),
        std::string("a.b.c.d"), std::string("a..c"), std::string("!!!.???.***"),
        std::string(5000, 'a') + ".b.c", std::string("eyJhbGciOiJIUzI1NiJ9.e30.")}) {
    EXPECT_FALSE(signer.verify(garbage, kNow)) << garbage.substr(0, 40);
  }
}

TEST(JwtSignerConfig, RefusesShortSecretAndOtherAlgorithms) {
  JwtSettings s;
  s.hmac_secret = std::string(31, 'k');
  EXPECT_THROW(JwtSigner{s}, std::invalid_argument);
  s.hmac_secret = std::string(32, 'k');
  s.algorithm = "RS256";
  EXPECT_THROW(JwtSigner{s}, std::invalid_argument);
}

}  // namespace
}  // namespace authd
