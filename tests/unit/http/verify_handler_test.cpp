// GET /auth/verify: require_amr parsed as a query (finding 2) and the
// verified-address header (finding 3).
#include <gtest/gtest.h>

#include "fakes/http_fixture.h"

namespace authd::http {
namespace {

using authd::testing::kStrongPassword;

class VerifyHandlerTest : public ::testing::Test, protected authd::testing::HttpWorld {
 protected:
  void SetUp() override {
    ASSERT_EQ(post("/auth/register", std::string(R"({"email":"ann@example.com","password":")") +
                                         kStrongPassword + "\"}")
                  .status,
              201);
  }
  // A live session's access token, re-signed with another `amr`.
  std::string token_with_amr(std::vector<std::string> amr) {
    auto r = post("/auth/login", std::string(R"({"email":"ann@example.com","password":")") +
                                     kStrongPassword + "\"}");
    EXPECT_EQ(r.status, 200) << r.body;
    auto claims = w.signer.verify(json(r)["access_token"].GetString(), w.clock.now());
    EXPECT_TRUE(claims);
    claims->amr = std::move(amr);
    return w.signer.sign(*claims);
  }
  Response verify(const std::string& token, const std::string& query) {
    Request r;
    r.method = "GET";
    r.path = "/auth/verify";
    r.query = query;
    r.authorization = "Bearer " + token;
    r.request_id = "rid";
    return app.handle(r);
  }
};

TEST_F(VerifyHandlerTest, Finding02AnotherParameterInFrontDoesNotOpenTheDoor) {
  const auto pwd = token_with_amr({"pwd"});
  EXPECT_EQ(verify(pwd, "x=1&require_amr=otp").status, 403);
  EXPECT_EQ(verify(pwd, "require_amr=otp&x=1").status, 403);
  EXPECT_EQ(verify(pwd, "require_amr=otp").status, 403);
  EXPECT_EQ(verify(pwd, "").status, 204);
  EXPECT_EQ(verify(pwd, "x=1").status, 204) << "other parameters are not a requirement";
}

TEST_F(VerifyHandlerTest, Finding02TheDocumentedListAdmitsAnyOfItsValues) {
  const auto otp = token_with_amr({"pwd", "otp"});
  EXPECT_EQ(verify(otp, "require_amr=otp,hwk,swk").status, 204);
  EXPECT_EQ(verify(otp, "require_amr=hwk,swk,otp").status, 204);
  EXPECT_EQ(verify(otp, "x=1&require_amr=otp").status, 204);
  EXPECT_EQ(verify(otp, "require_amr=otp%2Chwk").status, 204) << "percent-decoded";
  EXPECT_EQ(verify(otp, "require_%61mr=otp").status, 204) << "the name is decoded too";
  EXPECT_EQ(verify(otp, "require_amr=hwk,swk").status, 403);
  const auto swk = token_with_amr({"swk", "mfa"});
  EXPECT_EQ(verify(swk, "require_amr=otp,hwk,swk").status, 204);
  EXPECT_EQ(verify(swk, "require_amr=otp").status, 403);
}

TEST_F(VerifyHandlerTest, Finding02RepeatedOrMalformedRequirementsAreRefused) {
  const auto otp = token_with_amr({"pwd", "otp"});
  for (const char* query :
       {"require_amr=otp&require_amr=otp", "require_amr=pwd&require_%61mr=otp", "require_amr",
        "require_amr=", "require_amr=otp,", "require_amr=,otp", "require_amr=otp,,hwk",
        "require_amr=%zz", "require_amr=otp%", "require_amr=otp%2", "x=%G0&require_amr=otp"}) {
    const auto r = verify(otp, query);
    EXPECT_EQ(r.status, 403) << query;
    EXPECT_TRUE(r.body.empty()) << query;
  }
}

TEST_F(VerifyHandlerTest, Finding03TheVerifiedAddressHeaderFollowsTheToken) {
  const auto unverified = token_with_amr({"pwd"});
  auto r = verify(unverified, "");
  ASSERT_EQ(r.status, 204);
  EXPECT_EQ(*r.header("X-Auth-Email-Verified"), "false");
  EXPECT_EQ(*r.header("X-Auth-Email"), "ann@example.com");
  auto claims = w.signer.verify(unverified, w.clock.now());
  ASSERT_TRUE(claims);
  claims->email_verified = true;
  r = verify(w.signer.sign(*claims), "");
  ASSERT_EQ(r.status, 204);
  EXPECT_EQ(*r.header("X-Auth-Email-Verified"), "true");
}

}  // namespace
}  // namespace authd::http
