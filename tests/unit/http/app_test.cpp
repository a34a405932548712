#include "http/app.h"

#include <gtest/gtest.h>

#include "ports/store_errors.h"

namespace authd::http {
namespace {

Request get(std::string path, std::string method = "GET") {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.request_id = "req-1";
  return r;
}

HttpApp app_with(Handler h) {
  Router router;
  router.add("GET", "/x", std::move(h));
  router.add("POST", "/x", [](const Request&, RequestContext&, const RouteParams&) {
    return Response{201, {}, ""};
  });
  router.add("DELETE", "/items/{id}", [](const Request&, RequestContext&, const RouteParams& p) {
    return Response{204, {{"X-Id", std::string(p.param)}}, ""};
  });
  return HttpApp(std::move(router));
}

HttpApp ok_app() {
  return app_with([](const Request&, RequestContext&, const RouteParams&) {
    return Response{200, {}, "ok"};
  });
}

TEST(HttpApp, UnknownPathIs404Problem) {
  auto r = ok_app().handle(get("/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(*r.header("Content-Type"), "application/problem+json");
  EXPECT_NE(r.body.find("\"code\":\"not_found\""), std::string::npos);
  EXPECT_NE(r.body.find("\"request_id\":\"req-1\""), std::string::npos);
}

TEST(HttpApp, KnownPathOtherMethodIs405WithAllow) {
  auto r = ok_app().handle(get("/x", "PUT"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(*r.header("Allow"), "GET, POST");
  EXPECT_NE(r.body.find("method_not_allowed"), std::string::npos);
}

TEST(HttpApp, PathParameterRoutes) {
  auto r = ok_app().handle(get("/items/abc", "DELETE"));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(*r.header("X-Id"), "abc");
  EXPECT_EQ(ok_app().handle(get("/items/abc/def", "DELETE")).status, 404);
  EXPECT_EQ(ok_app().handle(get("/items/", "DELETE")).status, 404);
}

TEST(HttpApp, AParameterMayBeASegmentInTheMiddle) {
  Router router;
  router.add("GET", "/users/{id}", [](const Request&, RequestContext&, const RouteParams& p) {
    return Response{200, {{"X-Route", "user " + std::string(p.param)}}, ""};
  });
  router.add("POST", "/users/{id}/disable",
             [](const Request&, RequestContext&, const RouteParams& p) {
               return Response{200, {{"X-Route", "disable " + std::string(p.param)}}, ""};
             });
  HttpApp app(std::move(router));
  EXPECT_EQ(*app.handle(get("/users/u1/disable", "POST")).header("X-Route"), "disable u1");
  EXPECT_EQ(*app.handle(get("/users/u1")).header("X-Route"), "user u1");
  EXPECT_EQ(app.handle(get("/users/u1/disable")).status, 405);
  EXPECT_EQ(app.handle(get("/users//disable", "POST")).status, 404);
  EXPECT_EQ(app.handle(get("/users/a/b/disable", "POST")).status, 404);
  EXPECT_EQ(app.handle(get("/users/u1/disable/x", "POST")).status, 404);
  EXPECT_EQ(app.handle(get("/users/u1/enable", "POST")).status, 404);
}

TEST(HttpApp, OversizedBodyIs413AfterRouting) {
  Request r = get("/x", "POST");
  r.content_length = kMaxBodyBytes + 1;
  EXPECT_EQ(ok_app().handle(r).status, 413);
  r.path = "/nope";
  EXPECT_EQ(ok_app().handle(r).status, 404) << "route is judged first";
}

TEST(HttpApp, EveryAnswerHasRequestIdAndNoStore) {
  for (auto path : {"/x", "/nope"}) {
    auto r = ok_app().handle(get(path));
    ASSERT_TRUE(r.header("X-Request-ID")) << path;
    EXPECT_EQ(*r.header("X-Request-ID"), "req-1");
    EXPECT_EQ(*r.header("Cache-Control"), "no-store");
  }
}

TEST(HttpApp, DatabaseDownIs503WithRetryAfter) {
  auto app = app_with([](const Request&, RequestContext&, const RouteParams&) -> Response {
    throw StoreUnavailable("connection refused to db.internal:3306");
  });
  auto r = app.handle(get("/x"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(*r.header("Retry-After"), "1");
  EXPECT_NE(r.body.find("\"code\":\"unavailable\""), std::string::npos);
  EXPECT_EQ(r.body.find("db.internal"), std::string::npos) << "no internals in the body";
}

TEST(HttpApp, AnUnknownCommitOutcomeIsA503ThatSaysSo) {
  auto app = app_with([](const Request&, RequestContext&, const RouteParams&) -> Response {
    throw StoreCommitUnknown("lost COMMIT answer from db.internal");
  });
  auto r = app.handle(get("/x"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(*r.header("Retry-After"), "1");
  EXPECT_NE(r.body.find("\"code\":\"unavailable\""), std::string::npos);
  EXPECT_NE(r.body.find("may or may not have been applied"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("Nothing was changed"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("db.internal"), std::string::npos) << "no internals in the body";
}

TEST(HttpApp, BugsAre500WithoutInternals) {
  auto app = app_with([](const Request&, RequestContext&, const RouteParams&) -> Response {
    throw std::runtime_error("secret internal detail");
  });
  auto r = app.handle(get("/x"));
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("\"code\":\"internal\""), std::string::npos);
  EXPECT_EQ(r.body.find("secret internal detail"), std::string::npos);
}

}  // namespace
}  // namespace authd::http
