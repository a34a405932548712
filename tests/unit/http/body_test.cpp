#include "http/body.h"

#include <gtest/gtest.h>

namespace authd::http {
namespace {

Request json_request(std::string body) {
  Request r;
  r.method = "POST";
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

Problem problem_of(const std::variant<JsonBody, Problem>& v) {
  EXPECT_TRUE(std::holds_alternative<Problem>(v));
  return std::get<Problem>(v);
}

TEST(JsonBody, JudgesMediaTypeBeforeShape) {
  Request r = json_request("not json");
  r.content_type.reset();
  EXPECT_EQ(problem_of(JsonBody::parse(r, {{"email"}})).status, 415);
  r.content_type = "text/plain";
  EXPECT_EQ(problem_of(JsonBody::parse(r, {{"email"}})).code, "unsupported_media_type");
  r.content_type = "application/json";
  EXPECT_EQ(problem_of(JsonBody::parse(r, {{"email"}})).code, "invalid_json");
}

TEST(JsonBody, NamesTheFirstFailingFieldInBodyOrder) {
  auto p =
      problem_of(JsonBody::parse(json_request(R"({"password": 5})"), {{"email"}, {"password"}}));
  EXPECT_EQ(p.code, "missing_field");
  EXPECT_EQ(p.field, "email");
  p = problem_of(JsonBody::parse(json_request(R"({"email": null})"), {{"email"}, {"password"}}));
  EXPECT_EQ(p.code, "invalid_field");
  EXPECT_EQ(p.field, "email");
  p = problem_of(JsonBody::parse(json_request(R"({"email": "a", "password": []})"),
                                 {{"email"}, {"password"}}));
  EXPECT_EQ(p.code, "invalid_field");
  EXPECT_EQ(p.field, "password");
  EXPECT_EQ(p.status, 400);
}

TEST(JsonBody, ReadsFieldsAndIgnoresUnknownMembers) {
  auto v = JsonBody::parse(json_request(R"({"email": "a@b.co", "x": {"y": 1}, "all": true})"),
                           {{"email"}, {"all", FieldKind::boolean, false}});
  ASSERT_TRUE(std::holds_alternative<JsonBody>(v));
  const auto& body = std::get<JsonBody>(v);
  EXPECT_EQ(body.string("email"), "a@b.co");
  EXPECT_EQ(body.boolean("all"), true);
}

TEST(JsonBody, StringsMayHoldNul) {
  auto v = JsonBody::parse(json_request(R"({"password": "a\u0000b"})"), {{"password"}});
  ASSERT_TRUE(std::holds_alternative<JsonBody>(v));
  EXPECT_EQ(std::get<JsonBody>(v).string("password"), std::string_view("a\0b", 3));
}

TEST(Bearer, ParsesTheScheme) {
  Request r;
  EXPECT_FALSE(bearer_credential(r).sent);
  r.authorization = "Bearer abc.def.ghi";
  EXPECT_TRUE(bearer_credential(r).sent);
  EXPECT_EQ(bearer_credential(r).token, "abc.def.ghi");
  r.authorization = "bearer   tok  ";
  EXPECT_EQ(bearer_credential(r).token, "tok");
  r.authorization = "Basic dXNlcjpwdw==";
  EXPECT_FALSE(bearer_credential(r).sent);
  r.authorization = "Bearerabc";
  EXPECT_FALSE(bearer_credential(r).sent);
  r.authorization = "Bearer";
  EXPECT_TRUE(bearer_credential(r).sent);
  EXPECT_EQ(bearer_credential(r).token, "");
}

}  // namespace
}  // namespace authd::http
