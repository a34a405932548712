// The endpoints through the real router and HTTP app, over in-memory fakes.
#include <gtest/gtest.h>

#include "fakes/http_fixture.h"

namespace authd::http {
namespace {

using authd::testing::kOtherStrongPassword;
using authd::testing::kStrongPassword;

class HandlersTest : public ::testing::Test, protected authd::testing::HttpWorld {
 protected:
  std::string register_and_login() {
    EXPECT_EQ(post("/auth/register", std::string(R"({"email":"ann@example.com","password":")") +
                                         kStrongPassword + "\"}")
                  .status,
              201);
    auto r = post("/auth/login", std::string(R"({"email":"ann@example.com","password":")") +
                                     kStrongPassword + "\"}");
    EXPECT_EQ(r.status, 200);
    return json(r)["access_token"].GetString();
  }
};

TEST_F(HandlersTest, RegisterAnswers201WithTheAccount) {
  auto r = post("/auth/register", std::string(R"({"email":" Ann@Example.com","password":")") +
                                      kStrongPassword + "\"}");
  ASSERT_EQ(r.status, 201) << r.body;
  auto d = json(r);
  EXPECT_EQ(std::string(d["email"].GetString()), "ann@example.com");
  EXPECT_EQ(std::string(d["id"].GetString()).size(), 36u);
  EXPECT_EQ(std::string(d["created_at"].GetString()).back(), 'Z');
  EXPECT_EQ(*r.header("Content-Type"), "application/json");
}

TEST_F(HandlersTest, LoginBodyFollowsTheContract) {
  register_and_login();
  auto r = post("/auth/login", std::string(R"({"email":"ann@example.com","password":")") +
                                   kStrongPassword + "\"}");
  auto d = json(r);
  EXPECT_EQ(std::string(d["token_type"].GetString()), "Bearer");
  EXPECT_EQ(d["expires_in"].GetInt(), 900);
  EXPECT_TRUE(d["user"].IsObject());
  EXPECT_TRUE(d["user"]["email_verified_at"].IsNull());
  EXPECT_EQ(*r.header("Cache-Control"), "no-store");
}

TEST_F(HandlersTest, MeAnswersTheAccountOfALiveToken) {
  auto token = register_and_login();
  auto r = get("/auth/me", "Bearer " + token);
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  EXPECT_EQ(std::string(d["email"].GetString()), "ann@example.com");
  EXPECT_EQ(std::string(d["password_changed_at"].GetString()),
            std::string(d["created_at"].GetString()));
  EXPECT_FALSE(d["mfa_enabled"].GetBool());
}

TEST_F(HandlersTest, BearerFailuresCarryTheRightChallenge) {
  auto none = get("/auth/me");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(*none.header("WWW-Authenticate"), "Bearer realm=\"auth\"");
  auto basic = get("/auth/me", "Basic YTpi");
  EXPECT_EQ(*basic.header("WWW-Authenticate"), "Bearer realm=\"auth\"");
  auto bad = get("/auth/me", "Bearer not.a.token");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(*bad.header("WWW-Authenticate"), "Bearer realm=\"auth\", error=\"invalid_token\"");
  EXPECT_NE(bad.body.find("\"code\":\"invalid_token\""), std::string::npos);
}

TEST_F(HandlersTest, PasswordChangeReturnsAPairAndKillsOldTokens) {
  auto token = register_and_login();
  auto r = post("/auth/password",
                std::string(R"({"email":"ann@example.com","current_password":")") +
                    kStrongPassword + R"(","new_password":")" + kOtherStrongPassword + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(get("/auth/me", "Bearer " + token).status, 401);
  EXPECT_EQ(get("/auth/me", std::string("Bearer ") + json(r)["access_token"].GetString()).status,
            200);
}

TEST_F(HandlersTest, FieldsAreJudgedInBodyOrder) {
  auto r = post("/auth/password", R"({"new_password": 1})");
  EXPECT_EQ(r.status, 400);
  auto d = json(r);
  EXPECT_EQ(std::string(d["code"].GetString()), "missing_field");
  EXPECT_EQ(std::string(d["field"].GetString()), "email");
}

TEST_F(HandlersTest, HealthAndReadiness) {
  EXPECT_EQ(get("/health").status, 200);
  EXPECT_EQ(get("/health").body, R"({"status":"ok"})");
  EXPECT_EQ(get("/health/ready").status, 200);
  health.ready = false;
  auto r = get("/health/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(*r.header("Retry-After"), "1");
}

TEST_F(HandlersTest, DatabaseOutageIs503) {
  register_and_login();
  w.users.unavailable = true;
  auto r = post("/auth/login", std::string(R"({"email":"ann@example.com","password":")") +
                                   kStrongPassword + "\"}");
  EXPECT_EQ(r.status, 503);
}

}  // namespace
}  // namespace authd::http
