// The two lanes (README "Reliability"): the fast lane's routes never compute
// Argon2id, a fast-lane worker serves only them, and a request that waited
// too long is refused with the contract's 503.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "fakes/http_fixture.h"

namespace authd::http {
namespace {

using authd::testing::kStrongPassword;

class LanesTest : public ::testing::Test, protected authd::testing::HttpWorld {
 protected:
  // Exercises a fast-lane route through `target` and remembers its pattern.
  Response call(HttpApp& target, const std::string& method, const std::string& path,
                const std::string& pattern, std::optional<std::string> auth = std::nullopt,
                std::string body = "") {
    Request r;
    r.method = method;
    r.path = path;
    r.authorization = std::move(auth);
    r.request_id = "rid";
    r.remote_addr = "127.0.0.1";
    if (!body.empty()) {
      r.content_type = "application/json";
      r.body = std::move(body);
    }
    exercised.insert(pattern);
    return target.handle(r);
  }
  std::set<std::string> exercised;
};

TEST_F(LanesTest, TheFastLanesRoutesNeverComputeArgon2id) {
  ASSERT_EQ(post("/auth/register", std::string(R"({"email":"ann@example.com","password":")") +
                                       kStrongPassword + "\"}")
                .status,
            201);
  auto login = [&] {
    auto r = post("/auth/login", std::string(R"({"email":"ann@example.com","password":")") +
                                     kStrongPassword + "\"}");
    EXPECT_EQ(r.status, 200);
    return json(r);
  };
  auto first = login();
  auto second = login();
  const std::string bearer = std::string("Bearer ") + first["access_token"].GetString();
  const std::string other_session = second["access_token"].GetString();
  w.hasher.hashes = 0;
  w.hasher.verifies = 0;

  HttpApp fast(make_router(deps), nullptr, Lane::fast);
  // Valid and invalid calls of every fast route, through a fast-lane app.
  EXPECT_EQ(call(fast, "GET", "/auth/me", "/auth/me", bearer).status, 200);
  EXPECT_EQ(call(fast, "GET", "/auth/me", "/auth/me", std::string("Bearer x")).status, 401);
  EXPECT_EQ(call(fast, "GET", "/auth/verify", "/auth/verify", bearer).status, 204);
  EXPECT_EQ(call(fast, "GET", "/auth/sessions", "/auth/sessions", bearer).status, 200);
  const std::string refresh =
      std::string(R"({"refresh_token":")") + second["refresh_token"].GetString() + "\"}";
  auto refreshed = call(fast, "POST", "/auth/refresh", "/auth/refresh", std::nullopt, refresh);
  EXPECT_EQ(refreshed.status, 200);
  EXPECT_EQ(call(fast, "POST", "/auth/refresh", "/auth/refresh", std::nullopt,
                 R"({"refresh_token":"nope"})")
                .status,
            401);
  auto sessions = json(call(fast, "GET", "/auth/sessions", "/auth/sessions", bearer));
  std::string other_id;
  for (const auto& s : sessions["sessions"].GetArray())
    if (!s["current"].GetBool()) other_id = s["id"].GetString();
  ASSERT_FALSE(other_id.empty());
  EXPECT_EQ(
      call(fast, "DELETE", "/auth/sessions/" + other_id, "/auth/sessions/{id}", bearer).status,
      204);
  EXPECT_EQ(call(fast, "GET", "/auth/passkeys", "/auth/passkeys", bearer).status, 200);
  EXPECT_EQ(
      call(fast, "DELETE", "/auth/passkeys/" + other_id, "/auth/passkeys/{id}", bearer).status, 404)
      << "no passkey of that id";
  EXPECT_EQ(call(fast, "GET", "/.well-known/jwks.json", "/.well-known/jwks.json").status, 404)
      << "HS256: no public key";
  EXPECT_EQ(call(fast, "GET", "/health", "/health").status, 200);
  EXPECT_EQ(call(fast, "GET", "/health/ready", "/health/ready").status, 200);
  call(fast, "GET", "/metrics", "/metrics");
  EXPECT_EQ(call(fast, "POST", "/auth/logout", "/auth/logout", bearer, R"({"all":true})").status,
            204);
  EXPECT_EQ(call(fast, "POST", "/auth/logout", "/auth/logout", bearer).status, 401)
      << "the session is over";

  EXPECT_EQ(w.hasher.hashes, 0);
  EXPECT_EQ(w.hasher.verifies, 0);
  const auto fast_patterns = make_router(deps).patterns(Lane::fast);
  EXPECT_EQ(exercised, std::set<std::string>(fast_patterns.begin(), fast_patterns.end()))
      << "every fast-lane route was exercised above";
}

TEST_F(LanesTest, AFastLaneWorkerAnswersNoHashingRoute) {
  w.hasher.hashes = 0;  // the service's dummy hash, made once at start
  w.hasher.verifies = 0;
  HttpApp fast(make_router(deps), nullptr, Lane::fast);
  for (const auto& pattern : make_router(deps).patterns(Lane::hashing)) {
    Request r;
    r.method = "POST";
    r.path = pattern;
    r.content_type = "application/json";
    r.body = std::string(R"({"email":"ann@example.com","password":")") + kStrongPassword + "\"}";
    r.request_id = "rid";
    const Response response = fast.handle(r);
    EXPECT_EQ(response.status, 404) << pattern;
    EXPECT_EQ(code(response), "not_found") << pattern;
  }
  EXPECT_EQ(w.hasher.hashes + w.hasher.verifies, 0);
  EXPECT_EQ(app.handle([] {
                 Request r;
                 r.method = "GET";
                 r.path = "/health";
                 return r;
               }())
                .status,
            200)
      << "the hashing lane serves every route";
}

// /auth/me is laned by method (nginx's location sends DELETE to the hashing
// lane): closing the account asks the password again, so a fast-lane worker
// never serves it, while GET and a wrong method's 405 stay in the fast lane.
TEST_F(LanesTest, DeleteAuthMeIsTheHashingLanesWhileItsGetIsTheFastLanes) {
  ASSERT_EQ(post("/auth/register", std::string(R"({"email":"ann@example.com","password":")") +
                                       kStrongPassword + "\"}")
                .status,
            201);
  auto login = json(post("/auth/login", std::string(R"({"email":"ann@example.com","password":")") +
                                            kStrongPassword + "\"}"));
  const std::string bearer = std::string("Bearer ") + login["access_token"].GetString();
  const std::string body = std::string(R"({"password":")") + kStrongPassword + "\"}";
  const Router router = make_router(deps);
  EXPECT_EQ(router.match("GET", "/auth/me").lane, Lane::fast);
  EXPECT_EQ(router.match("DELETE", "/auth/me").lane, Lane::hashing);
  EXPECT_EQ(router.match("PUT", "/auth/me").lane, Lane::fast) << "a 405 is the path's lane's";
  const auto hashing = router.patterns(Lane::hashing);
  EXPECT_EQ(std::count(hashing.begin(), hashing.end(), "/auth/me"), 0)
      << "nginx sends the path to the fast lane; only DELETE goes elsewhere";

  w.hasher.hashes = 0;
  w.hasher.verifies = 0;
  HttpApp fast(make_router(deps), nullptr, Lane::fast);
  const Response refused = call(fast, "DELETE", "/auth/me", "/auth/me", bearer, body);
  EXPECT_EQ(refused.status, 404);
  EXPECT_EQ(code(refused), "not_found");
  EXPECT_EQ(call(fast, "PUT", "/auth/me", "/auth/me", bearer).status, 405);
  EXPECT_EQ(call(fast, "GET", "/auth/me", "/auth/me", bearer).status, 200);
  EXPECT_EQ(w.hasher.hashes + w.hasher.verifies, 0);

  EXPECT_EQ(call(app, "DELETE", "/auth/me", "/auth/me", bearer, body).status, 204)
      << "the hashing lane serves it";
  EXPECT_GT(w.hasher.verifies, 0);
}

TEST_F(LanesTest, ARequestThatWaitedTooLongGetsTheContracts503) {
  w.hasher.hashes = 0;
  w.hasher.verifies = 0;
  Request r;
  r.method = "POST";
  r.path = "/auth/login";
  r.request_id = "rid-1";
  const Response response = app.refuse_for_wait(r, 4100, 3000);
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(code(response), "unavailable");
  ASSERT_NE(response.header("Retry-After"), nullptr);
  EXPECT_EQ(*response.header("Retry-After"), "1");
  ASSERT_NE(response.header("Cache-Control"), nullptr);
  EXPECT_EQ(*response.header("Cache-Control"), "no-store");
  ASSERT_NE(response.header("X-Request-ID"), nullptr);
  EXPECT_EQ(*response.header("X-Request-ID"), "rid-1");
  auto body = json(response);
  EXPECT_EQ(body["retry_after"].GetInt(), 1);
  EXPECT_NE(std::string(body["detail"].GetString()).find("Nothing was changed"), std::string::npos);
  EXPECT_EQ(w.hasher.hashes + w.hasher.verifies, 0);
}

TEST(RouterLanes, APathLivesInOneLane) {
  Router r;
  r.add(
      "GET", "/x", [](const Request&, RequestContext&, const RouteParams&) { return Response{}; },
      Lane::fast);
  EXPECT_THROW(
      r.add("POST", "/x",
            [](const Request&, RequestContext&, const RouteParams&) { return Response{}; }),
      std::logic_error);
  EXPECT_EQ(r.match("POST", "/x").lane, Lane::fast) << "a 405 names the path's lane";
}

TEST(RouterLanes, APathDeclaredLanedByMethodMaySplitItsMethods) {
  Router r;
  auto answer = [](const Request&, RequestContext&, const RouteParams&) { return Response{}; };
  r.lane_by_method("/x");
  r.add("GET", "/x", answer, Lane::fast);
  EXPECT_NO_THROW(r.add("DELETE", "/x", answer));
  EXPECT_EQ(r.match("GET", "/x").lane, Lane::fast);
  EXPECT_EQ(r.match("DELETE", "/x").lane, Lane::hashing);
  EXPECT_EQ(r.match("POST", "/x").lane, Lane::fast) << "the path's lane: its first method's";
  EXPECT_EQ(r.patterns(Lane::fast), std::vector<std::string>{"/x"});
  EXPECT_TRUE(r.patterns(Lane::hashing).empty());
}

}  // namespace
}  // namespace authd::http
