// The passkey endpoints through the real router and HTTP app (in-memory
// stores, a software authenticator): the JSON forms of the options, what is
// a malformed credential (400) and what a failed check (422 / 401), the
// order of judging, and the answers' shapes.
#include <gtest/gtest.h>

#include "fakes/http_fixture.h"
#include "fakes/soft_authenticator.h"
#include "util/base64url.h"

namespace authd::http {
namespace {

using authd::testing::KeyKind;
using authd::testing::kStrongPassword;
using authd::testing::SoftAuthenticator;

constexpr const char* kOrigin = "https://localhost:8443";  // the policy's default origin

class PasskeyHandlersTest : public ::testing::Test, protected authd::testing::HttpWorld {
 protected:
  std::string token;
  void SetUp() override {
    ASSERT_EQ(post("/auth/register", std::string(R"({"email":"ann@example.com","password":")") +
                                         kStrongPassword + "\"}")
                  .status,
              201);
    token = login();
  }
  std::string login() {
    auto r = post("/auth/login", std::string(R"({"email":"ann@example.com","password":")") +
                                     kStrongPassword + "\"}");
    EXPECT_EQ(r.status, 200);
    return json(r)["access_token"].GetString();
  }
  Response send(const std::string& method, const std::string& path, std::optional<std::string> body,
                std::optional<std::string> bearer) {
    Request r;
    r.method = method;
    r.path = path;
    if (body) {
      r.content_type = "application/json";
      r.body = *body;
    }
    if (bearer) r.authorization = "Bearer " + *bearer;
    r.request_id = "rid";
    r.remote_addr = "127.0.0.1";
    return app.handle(r);
  }
  std::string creation_challenge() {
    auto r = send("POST", "/auth/passkeys/register/options",
                  std::string(R"({"password":")") + kStrongPassword + "\"}", token);
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r)["publicKey"]["challenge"].GetString();
  }
  Response register_json(const std::string& credential_json, const std::string& extra = "") {
    return send("POST", "/auth/passkeys/register",
                "{\"credential\":" + credential_json + extra + "}", token);
  }
  Response register_device(SoftAuthenticator& a, SoftAuthenticator::Create c = {}) {
    c.challenge = creation_challenge();
    c.origin = kOrigin;
    return register_json(a.registration_json(c));
  }
  std::string login_challenge() {
    auto r = send("POST", "/auth/passkeys/login/options", std::nullopt, std::nullopt);
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r)["publicKey"]["challenge"].GetString();
  }
  std::string handle() { return *w.passkeys.find_user_handle(w.users.users.begin()->first); }
};

TEST_F(PasskeyHandlersTest, CreationOptionsAreWebAuthnsJsonForm) {
  auto r = send("POST", "/auth/passkeys/register/options",
                std::string(R"({"password":")") + kStrongPassword + "\"}", token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(*r.header("Cache-Control"), "no-store");
  auto d = json(r);
  const auto& pk = d["publicKey"];
  EXPECT_EQ(std::string(pk["rp"]["id"].GetString()), "localhost");
  EXPECT_EQ(std::string(pk["rp"]["name"].GetString()), "auth");
  EXPECT_EQ(base64url_decode(pk["user"]["id"].GetString())->size(), 32u);
  EXPECT_EQ(std::string(pk["user"]["name"].GetString()), "ann@example.com");
  EXPECT_EQ(std::string(pk["user"]["displayName"].GetString()), "ann@example.com");
  EXPECT_EQ(base64url_decode(pk["challenge"].GetString())->size(), 32u);
  ASSERT_EQ(pk["pubKeyCredParams"].Size(), 3u);
  EXPECT_EQ(pk["pubKeyCredParams"][0]["alg"].GetInt(), -8);
  EXPECT_EQ(pk["pubKeyCredParams"][1]["alg"].GetInt(), -7);
  EXPECT_EQ(pk["pubKeyCredParams"][2]["alg"].GetInt(), -257);
  EXPECT_EQ(std::string(pk["pubKeyCredParams"][0]["type"].GetString()), "public-key");
  EXPECT_EQ(pk["timeout"].GetInt(), 300000);
  EXPECT_EQ(pk["excludeCredentials"].Size(), 0u);
  EXPECT_EQ(std::string(pk["authenticatorSelection"]["residentKey"].GetString()), "required");
  EXPECT_EQ(std::string(pk["authenticatorSelection"]["userVerification"].GetString()), "required");
  EXPECT_EQ(std::string(pk["attestation"].GetString()), "none");
}

TEST_F(PasskeyHandlersTest, OptionsJudgeTheBodyThenTheTokenThenThePassword) {
  EXPECT_EQ(code(send("POST", "/auth/passkeys/register/options", "{}", token)), "missing_field");
  auto no_token = send("POST", "/auth/passkeys/register/options",
                       std::string(R"({"password":"x"})"), std::nullopt);
  EXPECT_EQ(no_token.status, 401);
  EXPECT_EQ(*no_token.header("WWW-Authenticate"), "Bearer realm=\"auth\"");
  auto wrong =
      send("POST", "/auth/passkeys/register/options", R"({"password":"wrong one!"})", token);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(code(wrong), "invalid_credentials");
  EXPECT_FALSE(wrong.header("WWW-Authenticate")) << "a wrong password is not a bad token";
}

TEST_F(PasskeyHandlersTest, RegistrationAnswers201WithThePasskey) {
  SoftAuthenticator a;
  auto r = register_device(a);
  ASSERT_EQ(r.status, 201) << r.body;
  auto d = json(r);
  EXPECT_EQ(std::string(d["id"].GetString()).size(), 36u);
  EXPECT_EQ(std::string(d["name"].GetString()), "Passkey");
  EXPECT_EQ(std::string(d["created_at"].GetString()).back(), 'Z');
  EXPECT_TRUE(d["last_used_at"].IsNull());
  EXPECT_FALSE(d["backed_up"].GetBool());
  ASSERT_EQ(d["transports"].Size(), 1u);
  EXPECT_EQ(std::string(d["transports"][0].GetString()), "internal");
  EXPECT_FALSE(d.HasMember("credential_id"));

  auto list = send("GET", "/auth/passkeys", std::nullopt, token);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json(list)["passkeys"].Size(), 1u);
  EXPECT_EQ(json(get("/auth/me", "Bearer " + token))["passkeys"].GetInt(), 1);
}

TEST_F(PasskeyHandlersTest, RegistrationJudgesTheTokenBeforeTheBodysShape) {
  auto r = send("POST", "/auth/passkeys/register", R"({"credential":"garbage"})", std::nullopt);
  EXPECT_EQ(r.status, 401);
  r = send("POST", "/auth/passkeys/register", "not json", "not.a.token");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code(send("POST", "/auth/passkeys/register", "not json", token)), "invalid_json");
}

TEST_F(PasskeyHandlersTest, AMalformedCredentialIs400NamingTheMember) {
  SoftAuthenticator a;
  SoftAuthenticator::Create c;
  c.challenge = creation_challenge();
  c.origin = kOrigin;
  const std::string good = a.registration_json(c);
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  const std::string cdj_key = "\"clientDataJSON\":\"";
  const std::string att_key = "\"attestationObject\":\"";
  for (const std::string& bad : {
           std::string("\"a string\""), std::string("[]"),
           replace("\"type\":\"public-key\"", "\"type\":1"),
           replace(cdj_key, cdj_key + "*"),                                      // not base64url
           replace(cdj_key, cdj_key + base64url_encode("[1]") + "\",\"x\":\""),  // not an object
           replace(att_key, att_key + base64url_encode("not cbor") + "\",\"y\":\""),
           replace("\"rawId\":\"", "\"rawId\":\"AA"),  // id and rawId differ
       }) {
    auto r = register_json(bad);
    EXPECT_EQ(r.status, 400) << bad << "\n" << r.body;
    EXPECT_EQ(code(r), "invalid_field") << bad;
    EXPECT_EQ(std::string(json(r)["field"].GetString()), "credential");
  }
  EXPECT_EQ(code(send("POST", "/auth/passkeys/register", "{}", token)), "missing_field");
  // The name: 1-64 characters, no control characters.
  for (const char* name : {R"("")", R"("tab\there")", "1", "null"}) {
    auto r = register_json(good, std::string(",\"name\":") + name);
    EXPECT_EQ(r.status, 400) << name;
    EXPECT_EQ(std::string(json(r)["field"].GetString()), "name");
  }
  auto long_name = register_json(good, ",\"name\":\"" + std::string(65, 'n') + "\"");
  EXPECT_EQ(long_name.status, 400);
  auto ok = register_json(good, ",\"name\":\"" + std::string(64, 'n') + "\"");
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST_F(PasskeyHandlersTest, AFailedCheckIs422AndADuplicateOrTheLimit409) {
  SoftAuthenticator a;
  SoftAuthenticator::Create spoiled;
  spoiled.origin = "https://localhost:9443";
  spoiled.challenge = creation_challenge();
  auto r = register_json(a.registration_json(spoiled));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(code(r), "invalid_passkey");
  EXPECT_NE(std::string(json(r)["detail"].GetString()).find("origin"), std::string::npos);
  ASSERT_EQ(register_device(a).status, 201);
  auto again = register_device(a);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(code(again), "passkey_exists");
}

TEST_F(PasskeyHandlersTest, RemovingAnswers204ThenIsNotFound) {
  SoftAuthenticator a;
  auto created = register_device(a);
  const std::string id = json(created)["id"].GetString();
  EXPECT_EQ(send("DELETE", "/auth/passkeys/" + id, std::nullopt, token).status, 204);
  auto gone = send("DELETE", "/auth/passkeys/" + id, std::nullopt, token);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(code(gone), "not_found");
}

TEST_F(PasskeyHandlersTest, ThePathsOfTheCeremoniesAreNotPasskeyIds) {
  auto r = send("DELETE", "/auth/passkeys/register", std::nullopt, token);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(*r.header("Allow"), "POST");
  r = send("GET", "/auth/passkeys/login", std::nullopt, token);
  EXPECT_EQ(*r.header("Allow"), "POST");
}

TEST_F(PasskeyHandlersTest, LoginOptionsTakeNoBodyOrAnEmptyObject) {
  auto none = send("POST", "/auth/passkeys/login/options", std::nullopt, std::nullopt);
  ASSERT_EQ(none.status, 200);
  auto pk = json(none);
  EXPECT_EQ(std::string(pk["publicKey"]["rpId"].GetString()), "localhost");
  EXPECT_EQ(std::string(pk["publicKey"]["userVerification"].GetString()), "required");
  EXPECT_EQ(pk["publicKey"]["allowCredentials"].Size(), 0u);
  EXPECT_EQ(pk["publicKey"]["timeout"].GetInt(), 300000);
  EXPECT_EQ(send("POST", "/auth/passkeys/login/options", "{}", std::nullopt).status, 200);
  EXPECT_EQ(code(send("POST", "/auth/passkeys/login/options", "[]", std::nullopt)), "invalid_json");
}

TEST_F(PasskeyHandlersTest, LoginAnswersTheLoginBodyOr401) {
  SoftAuthenticator a(KeyKind::eddsa);
  ASSERT_EQ(register_device(a).status, 201);
  SoftAuthenticator::Get g;
  g.origin = kOrigin;
  g.challenge = login_challenge();
  g.user_handle = handle();
  auto r = send("POST", "/auth/passkeys/login", "{\"credential\":" + a.assertion_json(g) + "}",
                std::nullopt);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json(r)["access_token"].IsString());
  EXPECT_EQ(std::string(json(r)["user"]["email"].GetString()), "ann@example.com");
  // Replayed: the challenge is spent.
  r = send("POST", "/auth/passkeys/login", "{\"credential\":" + a.assertion_json(g) + "}",
           std::nullopt);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code(r), "invalid_token");
  EXPECT_FALSE(r.header("WWW-Authenticate"));
  // No userHandle: a failed check (401), not a missing field.
  g.challenge = login_challenge();
  g.user_handle.reset();
  r = send("POST", "/auth/passkeys/login", "{\"credential\":" + a.assertion_json(g) + "}",
           std::nullopt);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code(r), "invalid_credentials");
  EXPECT_EQ(code(send("POST", "/auth/passkeys/login", R"({"credential":{}})", std::nullopt)),
            "invalid_field");
}

TEST_F(PasskeyHandlersTest, MfaVerifyTakesExactlyOneOfCodeRecoveryCodeAndPasskey) {
  auto verify = [&](const std::string& members) {
    return send("POST", "/auth/mfa/verify", "{\"mfa_token\":\"t\"" + members + "}", std::nullopt);
  };
  auto r = verify("");
  EXPECT_EQ(code(r), "missing_field");
  EXPECT_EQ(std::string(json(r)["field"].GetString()), "code");
  r = verify(R"(,"code":"1","passkey":{})");
  EXPECT_EQ(std::string(json(r)["field"].GetString()), "passkey");
  r = verify(R"(,"recovery_code":"1","passkey":{})");
  EXPECT_EQ(std::string(json(r)["field"].GetString()), "passkey");
  r = verify(R"(,"code":"1","recovery_code":"2","passkey":{})");
  EXPECT_EQ(std::string(json(r)["field"].GetString()), "recovery_code");
  r = verify(R"(,"passkey":"not an object")");
  EXPECT_EQ(code(r), "invalid_field");
  EXPECT_EQ(std::string(json(r)["field"].GetString()), "passkey");
  r = verify(R"(,"passkey":{"id":"x"})");
  EXPECT_EQ(code(r), "invalid_field") << "malformed before the token is judged";
}

TEST_F(PasskeyHandlersTest, MfaPasskeyOptionsJudgeTheMfaToken) {
  auto r = send("POST", "/auth/mfa/passkey/options", R"({"mfa_token":"unknown"})", std::nullopt);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code(r), "invalid_token");
  EXPECT_EQ(code(send("POST", "/auth/mfa/passkey/options", "{}", std::nullopt)), "missing_field");
}

}  // namespace
}  // namespace authd::http
