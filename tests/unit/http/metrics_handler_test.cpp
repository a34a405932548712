// GET /metrics through the real router and HTTP app: text for an allowed
// address, the unknown-route 404 for everyone else; and every request the
// app answers reaches its observer with route, status and duration.
#include <gtest/gtest.h>

#include <vector>

#include "fakes/service_fixture.h"
#include "http/app.h"
#include "http/handlers/handlers.h"

namespace authd::http {
namespace {

class AlwaysReady final : public HealthProbe {
 public:
  bool database_ready() override { return true; }
};

class RecordingObserver final : public RequestObserver {
 public:
  void request_started() noexcept override { ++started; }
  void request_finished(std::string_view route, int status,
                        std::chrono::nanoseconds took) noexcept override {
    finished.push_back({std::string(route), status});
    EXPECT_GE(took.count(), 0);
  }
  int started = 0;
  std::vector<std::pair<std::string, int>> finished;
};

Request get(std::string path, std::string remote_addr) {
  Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.request_id = "rid";
  r.remote_addr = std::move(remote_addr);
  return r;
}

class MetricsHandlerTest : public ::testing::Test {
 protected:
  authd::testing::ServiceWorld w;
  AlwaysReady health;
  int renders = 0;
  HandlerDeps deps{w.auth(), health, "",
                   MetricsEndpoint{[this] {
                                     ++renders;
                                     return std::string("authd_workers 2\n");
                                   },
                                   *CidrSet::parse({"127.0.0.1/32", "::1/128"})}};
  RecordingObserver observer;
  HttpApp app{make_router(deps), &observer};
};

TEST_F(MetricsHandlerTest, AllowedAddressesGetTheText) {
  for (const char* addr : {"127.0.0.1", "::1"}) {
    Response r = app.handle(get("/metrics", addr));
    EXPECT_EQ(r.status, 200) << addr;
    ASSERT_NE(r.header("Content-Type"), nullptr);
    EXPECT_EQ(*r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(r.body, "authd_workers 2\n");
  }
  EXPECT_EQ(renders, 2);
}

TEST_F(MetricsHandlerTest, EveryoneElseGetsTheNotFoundProblem) {
  for (const char* addr : {"127.0.0.2", "10.0.0.1", "2001:db8::1", "", "junk"}) {
    Response r = app.handle(get("/metrics", addr));
    EXPECT_EQ(r.status, 404) << addr;
    EXPECT_NE(r.body.find(R"("code":"not_found")"), std::string::npos) << r.body;
  }
  EXPECT_EQ(renders, 0) << "nothing is rendered for a refused address";
}

TEST_F(MetricsHandlerTest, WithoutARendererItIsNotFound) {
  HandlerDeps bare{w.auth(), health, ""};
  HttpApp plain{make_router(bare)};
  EXPECT_EQ(plain.handle(get("/metrics", "127.0.0.1")).status, 404);
}

TEST_F(MetricsHandlerTest, TheObserverHearsOfEveryRequest) {
  app.handle(get("/health", "127.0.0.1"));
  app.handle(get("/nope", "127.0.0.1"));
  Request post = get("/health", "127.0.0.1");
  post.method = "POST";
  app.handle(post);
  EXPECT_EQ(observer.started, 3);
  ASSERT_EQ(observer.finished.size(), 3u);
  EXPECT_EQ(observer.finished[0], (std::pair<std::string, int>{"/health", 200}));
  EXPECT_EQ(observer.finished[1], (std::pair<std::string, int>{"", 404}));
  EXPECT_EQ(observer.finished[2], (std::pair<std::string, int>{"/health", 405}));
}

TEST(RouterPatterns, EachPatternOnceInOrder) {
  authd::testing::ServiceWorld w;
  AlwaysReady health;
  HandlerDeps deps{w.auth(), health, ""};
  const auto patterns = make_router(deps).patterns();
  ASSERT_FALSE(patterns.empty());
  EXPECT_EQ(patterns.front(), "/auth/register");
  EXPECT_EQ(std::count(patterns.begin(), patterns.end(), "/metrics"), 1);
  EXPECT_EQ(std::count(patterns.begin(), patterns.end(), "/auth/sessions/{id}"), 1);
}

}  // namespace
}  // namespace authd::http
