// The email endpoints through the real router and HTTP app, over fakes.
#include <gtest/gtest.h>

#include <regex>

#include "auth/mail_request_service.h"
#include "fakes/http_fixture.h"

namespace authd::http {
namespace {

using authd::testing::kOtherStrongPassword;
using authd::testing::kStrongPassword;

class EmailHandlersTest : public ::testing::Test, protected authd::testing::HttpWorld {
 protected:
  std::string last_token(const std::string& path) {
    std::string token;
    for (const auto& [id, row] : w.outbox.rows) {
      std::smatch m;
      if (std::regex_search(row.mail.message, m, std::regex(path + "#token=([A-Za-z0-9_-]{43})"))) {
        token = m[1];
      }
    }
    return token;
  }
  void run_mailer_requests() {
    MailRequestService s(
        {w.users, w.email_tokens, w.outbox, w.mail_requests, w.transactions, w.clock, w.random},
        w.policy.mail);
    while (s.fulfil_next() != MailRequestService::Outcome::none_pending) {
    }
  }
  void register_ann() {
    ASSERT_EQ(post("/auth/register", std::string(R"({"email":"ann@example.com","password":")") +
                                         kStrongPassword + "\"}")
                  .status,
              201);
  }
};

TEST_F(EmailHandlersTest, VerifyAnswersTheUserWithItsVerificationTime) {
  register_ann();
  const std::string token = last_token("/verify-email");
  auto r = post("/auth/email/verify", R"({"token":")" + token + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  EXPECT_EQ(std::string(d["email"].GetString()), "ann@example.com");
  EXPECT_TRUE(std::regex_match(std::string(d["email_verified_at"].GetString()),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  EXPECT_TRUE(d.HasMember("id"));
  auto again = post("/auth/email/verify", R"({"token":")" + token + "\"}");
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(code(again), "invalid_token");
  // Not a bearer failure: no challenge.
  EXPECT_FALSE(again.header("WWW-Authenticate"));
}

TEST_F(EmailHandlersTest, ResendAndForgotAre202WithoutLookingAnythingUp) {
  for (const char* path : {"/auth/email/resend", "/auth/password/forgot"}) {
    for (const char* body :
         {R"({"email":"nobody@example.com"})", R"({"email":"not an email"})", R"({"email":""})"}) {
      auto r = post(path, body);
      EXPECT_EQ(r.status, 202) << path << " " << body;
      EXPECT_EQ(r.body, R"({"status":"accepted"})");
      EXPECT_EQ(*r.header("Content-Type"), "application/json");
    }
    EXPECT_EQ(code(post(path, "{}")), "missing_field");
    EXPECT_EQ(code(post(path, R"({"email":null})")), "invalid_field");
  }
}

TEST_F(EmailHandlersTest, ResetReturnsTheLoginBodyWithNoStore) {
  register_ann();
  EXPECT_EQ(post("/auth/password/forgot", R"({"email":"ann@example.com"})").status, 202);
  run_mailer_requests();
  const std::string token = last_token("/reset-password");
  ASSERT_FALSE(token.empty());

  auto weak =
      post("/auth/password/reset", R"({"token":")" + token + R"(","new_password":"password"})");
  EXPECT_EQ(weak.status, 422);
  EXPECT_EQ(code(weak), "weak_password");

  auto r = post("/auth/password/reset",
                R"({"token":")" + token + R"(","new_password":")" + kOtherStrongPassword + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(*r.header("Cache-Control"), "no-store");
  auto d = json(r);
  EXPECT_TRUE(d.HasMember("access_token") && d.HasMember("refresh_token"));
  EXPECT_TRUE(d["user"]["email_verified_at"].IsString());
}

TEST_F(EmailHandlersTest, ResetFieldsAreJudgedInOrderThenTheTokenBeforeThePassword) {
  auto r = post("/auth/password/reset", R"({"new_password":"x"})");
  EXPECT_EQ(code(r), "missing_field");
  EXPECT_EQ(std::string(json(r)["field"].GetString()), "token");
  r = post("/auth/password/reset", R"({"token":"x"})");
  EXPECT_EQ(std::string(json(r)["field"].GetString()), "new_password");
  r = post("/auth/password/reset", R"({"token":"nope","new_password":"password"})");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code(r), "invalid_token");
}

TEST_F(EmailHandlersTest, UnverifiedLoginIs403WhenRequired) {
  w.policy.mail.require_verified_email = true;
  w.rebuild();
  HandlerDeps strict{w.auth(), health, ""};
  HttpApp strict_app{make_router(strict)};
  Request reg;
  reg.method = "POST";
  reg.path = "/auth/register";
  reg.content_type = "application/json";
  reg.body = std::string(R"({"email":"ann@example.com","password":")") + kStrongPassword + "\"}";
  reg.request_id = "rid";
  ASSERT_EQ(strict_app.handle(reg).status, 201);
  Request login = reg;
  login.path = "/auth/login";
  auto r = strict_app.handle(login);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(code(r), "email_not_verified");
  // Finding 1 of issue 17: the password change is no way around it.
  Request change = reg;
  change.path = "/auth/password";
  change.body = std::string(R"({"email":"ann@example.com","current_password":")") +
                kStrongPassword + R"(","new_password":"correct horse battery staple"})";
  r = strict_app.handle(change);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(code(r), "email_not_verified");
  EXPECT_TRUE(r.body.find("access_token") == std::string::npos);
}

}  // namespace
}  // namespace authd::http
