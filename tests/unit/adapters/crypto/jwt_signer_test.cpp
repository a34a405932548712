#include "adapters/crypto/jwt_signer.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <map>
#include <string>

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

// Builds a token by hand (header, claims, HMAC), to try what our signer
// never makes: other algorithms, other types, missing or odd claims.
std::string forge(const std::string& claims_json, const EVP_MD* md, const std::string& key,
                  const std::string& typ, const std::string& kid, const char* alg = nullptr) {
  if (alg == nullptr) {
    alg = md == EVP_sha256() ? "HS256" : md == EVP_sha384() ? "HS384" : "HS512";
  }
  std::string header = std::string(R"({"alg":")") + alg + "\"";
  if (!typ.empty()) header += R"(,"typ":")" + typ + "\"";
  if (!kid.empty()) header += R"(,"kid":")" + kid + "\"";
  header += "}";
  std::string input = base64url_encode(header) + "." + base64url_encode(claims_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  return input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), mac_len));
}

// The claims of a valid token, with some members replaced or removed.
std::string claims_json(UnixSeconds iat, std::map<std::string, std::string> overrides = {}) {
  std::map<std::string, std::string> members = {{"iss", R"("auth")"},
                                                {"aud", R"("auth")"},
                                                {"sub", R"("u1")"},
                                                {"email", R"("a@b.co")"},
                                                {"email_verified", "false"},
                                                {"sid", R"("s1")"},
                                                {"jti", R"("j1")"},
                                                {"amr", R"(["pwd"])"},
                                                {"auth_time", std::to_string(iat)},
                                                {"iat", std::to_string(iat)},
                                                {"nbf", std::to_string(iat)},
                                                {"exp", std::to_string(iat + 900)}};
  for (auto& [k, v] : overrides) {
    if (v.empty()) {
      members.erase(k);
    } else {
      members[k] = v;
    }
  }
  std::string out = "{";
  for (const auto& [k, v] : members) {
    if (out.size() > 1) out += ",";
    out += "\"" + k + "\":" + v;
  }
  return out + "}";
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

// Finding 3: whether the address was verified travels in the token, as a
// JSON boolean that the verifier requires.
TEST_F(JwtSignerTest, Finding03EmailVerifiedIsARequiredBooleanClaim) {
  for (bool verified : {false, true}) {
    auto c = sample_claims();
    c.email_verified = verified;
    auto token = signer.sign(c);
    auto payload =
        base64url_decode(token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1));
    ASSERT_TRUE(payload);
    EXPECT_NE(payload->find(std::string("\"email_verified\":") + (verified ? "true" : "false")),
              std::string::npos)
        << *payload;
    auto back = signer.verify(token, kNow);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->email_verified, verified);
  }
  for (const char* odd : {R"("true")", "1", "null", "[true]"}) {
    auto token = forge(claims_json(kNow, {{"email_verified", odd}}), EVP_sha256(), kSecret,
                       "at+jwt", signer.key_id());
    EXPECT_FALSE(signer.verify(token, kNow)) << odd;
  }
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
  auto hs512 = forge(claims_json(kNow), EVP_sha512(), kSecret, "at+jwt", signer.key_id());
  ASSERT_FALSE(hs512.empty());
  EXPECT_FALSE(signer.verify(hs512, kNow));
  auto hs384 = forge(claims_json(kNow), EVP_sha384(), kSecret, "at+jwt", signer.key_id());
  EXPECT_FALSE(signer.verify(hs384, kNow));
}

TEST_F(JwtSignerTest, AcceptsOnlyAccessTokenTypes) {
  auto good =
      forge(claims_json(kNow), EVP_sha256(), kSecret, "application/AT+JWT", signer.key_id());
  EXPECT_TRUE(signer.verify(good, kNow));
  auto no_typ = forge(claims_json(kNow), EVP_sha256(), kSecret, "", signer.key_id());
  EXPECT_FALSE(signer.verify(no_typ, kNow));
  auto plain_jwt = forge(claims_json(kNow), EVP_sha256(), kSecret, "JWT", signer.key_id());
  EXPECT_FALSE(signer.verify(plain_jwt, kNow));
  auto other = forge(claims_json(kNow), EVP_sha256(), kSecret, "id+jwt", signer.key_id());
  EXPECT_FALSE(signer.verify(other, kNow));
}

TEST_F(JwtSignerTest, RefusesAnotherKeyOrKeyId) {
  auto other_key =
      forge(claims_json(kNow), EVP_sha256(), std::string(40, 't'), "at+jwt", signer.key_id());
  EXPECT_FALSE(signer.verify(other_key, kNow));
  auto other_kid = forge(claims_json(kNow), EVP_sha256(), kSecret, "at+jwt", "other");
  EXPECT_FALSE(signer.verify(other_kid, kNow));
}

TEST_F(JwtSignerTest, ChecksTimeClaimsWithThirtySecondsOfSkew) {
  auto token = signer.sign(sample_claims());
  EXPECT_TRUE(signer.verify(token, kNow + 900 + 29));
  EXPECT_FALSE(signer.verify(token, kNow + 900 + 30));
  EXPECT_TRUE(signer.verify(token, kNow - 30));
  EXPECT_FALSE(signer.verify(token, kNow - 31));
}

// A token checked once is remembered (VerifiedTokenMemo): its copies with
// one byte changed are still checked in full, and its times on every use.
TEST_F(JwtSignerTest, ARememberedTokenStillHasItsTimesAndBytesChecked) {
  const std::string token = signer.sign(sample_claims());
  ASSERT_TRUE(signer.verify(token, kNow));
  ASSERT_TRUE(signer.verify(token, kNow + 1));
  for (std::size_t i :
       {std::size_t{0}, token.find('.') + 3, token.rfind('.') + 2, token.size() - 1}) {
    std::string changed = token;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(signer.verify(changed, kNow)) << "byte " << i;
  }
  EXPECT_FALSE(signer.verify(token + "A", kNow));
  EXPECT_FALSE(signer.verify(token, kNow + 900 + 30)) << "expired since it was remembered";
  EXPECT_TRUE(signer.verify(token, kNow + 2));
}

TEST_F(JwtSignerTest, ChecksIssuerAndAudience) {
  auto wrong_iss = forge(claims_json(kNow, {{"iss", R"("evil")"}}), EVP_sha256(), kSecret, "at+jwt",
                         signer.key_id());
  EXPECT_FALSE(signer.verify(wrong_iss, kNow));
  auto wrong_aud = forge(claims_json(kNow, {{"aud", R"("other")"}}), EVP_sha256(), kSecret,
                         "at+jwt", signer.key_id());
  EXPECT_FALSE(signer.verify(wrong_aud, kNow));
  auto aud_list = forge(claims_json(kNow, {{"aud", R"(["x","auth"])"}}), EVP_sha256(), kSecret,
                        "at+jwt", signer.key_id());
  EXPECT_TRUE(signer.verify(aud_list, kNow));
}

// Finding 10: `aud` compared as a C string let "auth\u0000evil" pass.
TEST_F(JwtSignerTest, Finding10AudienceIsComparedWithItsLength) {
  for (const char* aud : {R"("auth\u0000evil")", R"(["auth\u0000evil"])", R"("auth\u0000")"}) {
    auto token =
        forge(claims_json(kNow, {{"aud", aud}}), EVP_sha256(), kSecret, "at+jwt", signer.key_id());
    EXPECT_FALSE(signer.verify(token, kNow)) << aud;
  }
}

TEST_F(JwtSignerTest, RequiresEveryClaim) {
  for (const char* claim : {"iss", "aud", "sub", "email", "email_verified", "sid", "jti", "iat",
                            "nbf", "exp", "auth_time", "amr"}) {
    auto token =
        forge(claims_json(kNow, {{claim, ""}}), EVP_sha256(), kSecret, "at+jwt", signer.key_id());
    EXPECT_FALSE(signer.verify(token, kNow)) << "accepted without " << claim;
  }
  auto complete = forge(claims_json(kNow), EVP_sha256(), kSecret, "at+jwt", signer.key_id());
  EXPECT_TRUE(signer.verify(complete, kNow)) << "the control token is valid";
}

TEST_F(JwtSignerTest, RefusesCritAndDuplicateMembers) {
  std::string header =
      R"({"alg":"HS256","typ":"at+jwt","kid":")" + signer.key_id() + R"(","crit":["exp"]})";
  std::string input = base64url_encode(header) + "." + base64url_encode(claims_json(kNow));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  EXPECT_FALSE(signer.verify(
      input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), len)), kNow));
  std::string dup = claims_json(kNow);
  dup.insert(1, R"("sub":"someone-else",)");
  EXPECT_FALSE(signer.verify(forge(dup, EVP_sha256(), kSecret, "at+jwt", signer.key_id()), kNow));
}

TEST_F(JwtSignerTest, RefusesAlgorithmsOtherThanThePinnedOne) {
  for (const char* alg : {"none", "HS512", "ES256", "RS256", "hs256"}) {
    auto token = forge(claims_json(kNow), EVP_sha256(), kSecret, "at+jwt", signer.key_id(), alg);
    EXPECT_FALSE(signer.verify(token, kNow)) << alg;
  }
}

TEST_F(JwtSignerTest, RefusesWrongClaimTypes) {
  auto string_exp = forge(claims_json(kNow, {{"exp", R"("9999999999")"}}), EVP_sha256(), kSecret,
                          "at+jwt", signer.key_id());
  EXPECT_FALSE(signer.verify(string_exp, kNow));
  auto amr_string = forge(claims_json(kNow, {{"amr", R"("pwd")"}}), EVP_sha256(), kSecret, "at+jwt",
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
