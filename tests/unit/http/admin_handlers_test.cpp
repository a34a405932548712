// The admin API and DELETE /auth/me through the real router and HTTP app,
// over fakes: the order of judging, the worker's own ADMIN_ALLOW check, the
// problem documents, and what each route answers.
#include <gtest/gtest.h>

#include "fakes/admin_fakes.h"
#include "fakes/captured_stderr.h"
#include "fakes/http_fixture.h"

namespace authd::testing {
namespace {

struct AdminHttpWorld {
  HttpWorld h;
  InMemoryAdminKeyStore keys;
  InMemoryAccountDirectory directory{h.w.users, h.w.passkeys};
  AdminService admin{
      AdminDeps{h.w.users, h.w.sessions, h.w.throttle, h.w.mfa, directory, keys, h.w.transactions,
                h.w.hasher, h.w.email_tokens, h.w.outbox, h.w.clock, h.w.random},
      [] {
        AdminPolicy p;
        p.secret_key = std::string(48, 's');
        return p;
      }()};
  http::HandlerDeps deps{
      h.w.auth(), h.health, "", {}, http::AdminEndpoint{&admin, *CidrSet::parse({"127.0.0.1/32"})}};
  http::HttpApp app{http::make_router(deps)};
  AdminKeys key_maker{keys, h.w.clock, h.w.random};

  std::string key(std::string_view scopes) {
    static int n = 0;
    return std::get<AdminKeys::Created>(key_maker.create("k" + std::to_string(++n), scopes)).key;
  }
  http::Response call(std::string method, std::string path, std::optional<std::string> bearer,
                      std::optional<std::string> body = std::nullopt,
                      std::string remote = "127.0.0.1") {
    http::Request r;
    r.method = std::move(method);
    const auto q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos) r.query = path.substr(q + 1);
    if (bearer) r.authorization = "Bearer " + *bearer;
    if (body) {
      r.content_type = "application/json";
      r.body = *body;
    }
    r.request_id = "rid";
    r.remote_addr = std::move(remote);
    return app.handle(r);
  }
};

TEST(AdminHttp, AnAddressOutsideAdminAllowIsTheUnknownRoute) {
  AdminHttpWorld a;
  const std::string k = a.key("users:read");
  auto r = a.call("GET", "/admin/users", k, std::nullopt, "198.51.100.7");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(HttpWorld::code(r), "not_found");
  EXPECT_EQ(a.keys.lookups, 0) << "nothing judged beyond the address";
}

TEST(AdminHttp, QueryShapeThenKeyThenScopeThenAccount) {
  AdminHttpWorld a;
  const std::string reader = a.key("users:read");
  auto r = a.call("GET", "/admin/users?limit=0", std::nullopt);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(HttpWorld::json(r)["field"].GetString(), std::string("limit"));
  r = a.call("GET", "/admin/users?email=a%zz", reader);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(HttpWorld::json(r)["field"].GetString(), std::string("email"));
  r = a.call("GET", "/admin/users?cursor=AAAA", reader);
  EXPECT_EQ(HttpWorld::json(r)["field"].GetString(), std::string("cursor"));
  r = a.call("GET", "/admin/users", std::nullopt);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(*r.header("WWW-Authenticate"), "Bearer realm=\"auth\"");
  r = a.call("POST", "/admin/users", reader, R"({"email":"not an email"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(HttpWorld::code(r), "insufficient_scope");
  const std::string writer = a.key("users:write");
  r = a.call("POST", "/admin/users", writer, R"({"email":"not an email"})");
  EXPECT_EQ(r.status, 422);
  r = a.call("POST", "/admin/users", std::nullopt, R"({"email":1})");
  EXPECT_EQ(r.status, 400) << "the body before the key";
  r = a.call("POST", "/admin/users/0190a3b2-0000-7000-8000-000000000001/disable", reader);
  EXPECT_EQ(HttpWorld::code(r), "insufficient_scope") << "the scope before the account";
  r = a.call("POST", "/admin/users/0190a3b2-0000-7000-8000-000000000001/disable", writer);
  EXPECT_EQ(r.status, 404);
  r = a.call("POST", "/admin/users/x/disable", writer, "[]");
  EXPECT_EQ(HttpWorld::code(r), "invalid_json") << "an optional body is still judged";
}

TEST(AdminHttp, AnAccessTokenIsNoKeyAndAKeyIsNoAccessToken) {
  AdminHttpWorld a;
  ASSERT_TRUE(a.h.w.auth().register_user("ann@example.com", kStrongPassword, {}).ok());
  auto grant = a.h.w.auth().login("ann@example.com", kStrongPassword, {}).value();
  const std::string k = a.key("users:read,users:write");
  auto r = a.call("GET", "/admin/users", grant.access_token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(*r.header("WWW-Authenticate"), "Bearer realm=\"auth\", error=\"invalid_token\"");
  r = a.call("GET", "/auth/me", k);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(HttpWorld::code(r), "invalid_token");
  EXPECT_EQ(r.body.find(k), std::string::npos);
}

TEST(AdminHttp, TheUserObjectsAndThePage) {
  AdminHttpWorld a;
  auto ann = a.h.w.auth().register_user("ann@example.com", kStrongPassword, {});
  ASSERT_TRUE(ann.ok());
  ASSERT_TRUE(a.h.w.auth().login("ann@example.com", kStrongPassword, {}).ok());
  Passkey passkey;  // registered directly: its count is what matters here
  passkey.id = Uuid{};
  passkey.user_id = ann.value().id;
  a.h.w.passkeys.passkeys[passkey.id] = passkey;
  const std::string k = a.key("users:read,users:write");
  auto r = a.call("GET", "/admin/users?email=ANN%40example.com", k);
  ASSERT_EQ(r.status, 200) << r.body;
  auto page = HttpWorld::json(r);
  ASSERT_EQ(page["users"].Size(), 1u);
  const auto& u = page["users"][0];
  for (const char* member : {"id", "email", "created_at", "email_verified_at", "disabled_at",
                             "mfa_enabled", "passkeys", "last_login_at"}) {
    EXPECT_TRUE(u.HasMember(member)) << member;
  }
  EXPECT_EQ(u.MemberCount(), 8u);
  EXPECT_EQ(u["passkeys"].GetUint(), 1u) << "the account's real count";
  EXPECT_TRUE(u["last_login_at"].IsString());
  EXPECT_TRUE(page["next_cursor"].IsNull());
  const std::string id = u["id"].GetString();
  r = a.call("GET", "/admin/users/" + id, k);
  ASSERT_EQ(r.status, 200);
  auto detail = HttpWorld::json(r);
  ASSERT_EQ(detail["sessions"].Size(), 1u);
  EXPECT_FALSE(detail["sessions"][0].HasMember("current"));
  r = a.call("POST", "/admin/users", k, R"({"email":"bob@example.com"})");
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(*r.header("Location"),
            "/admin/users/" + std::string(HttpWorld::json(r)["id"].GetString()));
  EXPECT_EQ(a.call("POST", "/admin/users", k, R"({"email":"bob@example.com"})").status, 409);
  EXPECT_EQ(a.call("DELETE", "/admin/users/" + id + "/sessions", k).status, 204);
  EXPECT_EQ(a.call("DELETE", "/admin/users/" + id, k).status, 204);
  EXPECT_EQ(a.call("GET", "/admin/users/" + id, k).status, 404);
  r = a.call("PUT", "/admin/users/" + id, k);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(*r.header("Allow"), "GET, DELETE");
}

// The database failing under an admin request (HttpApp answers 503): the
// request is still an audit line (API.md: every admin request is one).
TEST(AdminHttp, ARequestTheDatabaseFailsIsStillAnAuditLine) {
  AdminHttpWorld a;
  const std::string k = a.key("users:read");
  a.h.w.users.unavailable = true;
  http::Response r;
  const std::string log = testing::captured_stderr(
      [&] { r = a.call("GET", "/admin/users/01890a5d-ac96-774b-bcce-b302099a8057", k); });
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(log.find(R"("event":"admin_request")"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("outcome":"database_unavailable")"), std::string::npos) << log;
  EXPECT_EQ(log.find(k), std::string::npos) << "the key itself is never logged";
}

TEST(CloseAccountHttp, BodyThenTokenThenThePassword) {
  HttpWorld h;
  ASSERT_TRUE(h.w.auth().register_user("ann@example.com", kStrongPassword, {}).ok());
  auto grant = h.w.auth().login("ann@example.com", kStrongPassword, {}).value();
  auto del = [&](std::optional<std::string> token, std::optional<std::string> body) {
    http::Request r;
    r.method = "DELETE";
    r.path = "/auth/me";
    if (token) r.authorization = "Bearer " + *token;
    if (body) {
      r.content_type = "application/json";
      r.body = *body;
    }
    r.request_id = "rid";
    return h.app.handle(r);
  };
  EXPECT_EQ(del(std::nullopt, std::nullopt).status, 415);
  EXPECT_EQ(HttpWorld::code(del(std::nullopt, R"({"password":null})")), "invalid_field");
  EXPECT_EQ(HttpWorld::code(del(grant.access_token, R"({"password":"x","code":5})")),
            "invalid_field");
  auto r = del(std::nullopt, R"({"password":"x"})");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(*r.header("WWW-Authenticate"), "Bearer realm=\"auth\"");
  r = del(grant.access_token, R"({"password":"wrong password!"})");
  EXPECT_EQ(HttpWorld::code(r), "invalid_credentials");
  EXPECT_EQ(r.header("WWW-Authenticate"), nullptr);
  r = del(grant.access_token, std::string(R"({"password":")") + kStrongPassword + "\"}");
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(h.get("/auth/me", "Bearer " + grant.access_token).status, 401);
  EXPECT_EQ(h.get("/auth/me").status, 401);
  // A live token whose account was disabled meanwhile: the token failed, so
  // the 401 says so in WWW-Authenticate like every bearer 401.
  auto bob = h.w.auth().register_user("bob@example.com", kStrongPassword, {}).value();
  auto bob_grant = h.w.auth().login("bob@example.com", kStrongPassword, {}).value();
  ASSERT_TRUE(h.w.users.set_disabled(bob.id, h.w.clock.now()));
  r = del(bob_grant.access_token, std::string(R"({"password":")") + kStrongPassword + "\"}");
  EXPECT_EQ(HttpWorld::code(r), "invalid_token");
  ASSERT_NE(r.header("WWW-Authenticate"), nullptr);
  EXPECT_EQ(*r.header("WWW-Authenticate"), "Bearer realm=\"auth\", error=\"invalid_token\"");
  http::Request put;
  put.method = "PUT";
  put.path = "/auth/me";
  put.request_id = "rid";
  EXPECT_EQ(*h.app.handle(put).header("Allow"), "GET, DELETE");
}

}  // namespace
}  // namespace authd::testing
