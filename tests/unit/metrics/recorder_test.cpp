// The recorder: what the HTTP layer and the ports report lands in the right
// shared cells, and the timed hasher reports each Argon2id call.
#include "metrics/recorder.h"

#include <gtest/gtest.h>

#include <memory>

#include "fakes/fakes.h"
#include "metrics/snapshot.h"
#include "metrics/timed_hasher.h"

namespace authd::metrics {
namespace {

using namespace std::chrono_literals;

class RecorderTest : public ::testing::Test {
 protected:
  std::unique_ptr<Block> block = std::make_unique<Block>();
  Recorder recorder{*block, 4242};

  void SetUp() override { recorder.set_routes({"/health", "/auth/login", "/health"}); }
};

TEST_F(RecorderTest, RequestsAreCountedByRouteIndexAndStatus) {
  recorder.request_finished("/auth/login", 200, 3ms);
  recorder.request_finished("/auth/login", 401, 30ms);
  recorder.request_finished("/auth/login", 401, 30ms);
  recorder.request_finished("", 404, 1ms);
  recorder.request_finished("/not-a-route", 404, 1ms);
  EXPECT_EQ(block->requests[2][status_slot(200)].load(), 1u);
  EXPECT_EQ(block->requests[2][status_slot(401)].load(), 2u);
  EXPECT_EQ(block->requests[0][status_slot(404)].load(), 2u) << "unknown routes: index 0";
  const auto s = take_snapshot(*block);
  EXPECT_EQ(s.latency[2].count(), 3u);
  EXPECT_EQ(s.latency[2].sum_ns, 63'000'000u);
  EXPECT_EQ(s.latency[2].counts[bucket_index(kLatencyBoundsNs, 30'000'000)], 2u);
}

TEST_F(RecorderTest, TheBusyGaugeFollowsTheRequest) {
  EXPECT_EQ(take_snapshot(*block).workers_alive, 1u);
  EXPECT_EQ(take_snapshot(*block).workers_busy, 0u);
  recorder.request_started();
  EXPECT_EQ(take_snapshot(*block).workers_busy, 1u);
  recorder.request_finished("/health", 200, 1ms);
  EXPECT_EQ(take_snapshot(*block).workers_busy, 0u);
  release_worker_slot(*block, 4242);
  EXPECT_EQ(take_snapshot(*block).workers_alive, 0u);
}

TEST_F(RecorderTest, PortEventsLandInTheirCells) {
  recorder.login(LoginOutcome::ok);
  recorder.login(LoginOutcome::failed);
  recorder.login(LoginOutcome::failed);
  recorder.login(LoginOutcome::throttled);
  recorder.refresh_reuse_detected();
  recorder.database_failure(DatabaseFailure::lost);
  recorder.database_reconnected();
  const auto s = take_snapshot(*block);
  EXPECT_EQ(s.logins[0], 1u);
  EXPECT_EQ(s.logins[1], 2u);
  EXPECT_EQ(s.logins[2], 1u);
  EXPECT_EQ(s.logins[3], 0u);
  EXPECT_EQ(s.refresh_reuse, 1u);
  EXPECT_EQ(s.db_failures[0], 0u);
  EXPECT_EQ(s.db_failures[1], 1u);
  EXPECT_EQ(s.db_reconnects, 1u);
}

TEST_F(RecorderTest, PasskeyCeremoniesLandInTheirCells) {
  recorder.passkey_registration(PasskeyRegistration::ok);
  recorder.passkey_registration(PasskeyRegistration::exists);
  recorder.passkey_login(PasskeyLoginKind::passwordless, PasskeyLogin::ok);
  recorder.passkey_login(PasskeyLoginKind::second_factor, PasskeyLogin::unknown_credential);
  const auto s = take_snapshot(*block);
  EXPECT_EQ(s.passkey_registrations[0], 1u);
  EXPECT_EQ(s.passkey_registrations[2], 1u);
  EXPECT_EQ(s.passkey_registrations[1] + s.passkey_registrations[3], 0u);
  EXPECT_EQ(s.passkey_logins[0][0], 1u);
  EXPECT_EQ(s.passkey_logins[1][2], 1u);
  EXPECT_EQ(s.passkey_logins[0][2] + s.passkey_logins[1][0], 0u);
}

TEST_F(RecorderTest, RenderNamesRoutesByPattern) {
  recorder.request_finished("/auth/login", 200, 3ms);
  const std::string text = recorder.render();
  EXPECT_NE(text.find(R"(authd_http_requests_total{route="/auth/login",status="200"} 1)"),
            std::string::npos)
      << text;
}

TEST_F(RecorderTest, AdminRequestsAreCountedByRouteAndOutcome) {
  recorder.set_routes({"/health", "/admin/users", "/admin/users/{id}/disable"});
  recorder.request_finished("/admin/users", 200, 1ms);
  recorder.request_finished("/admin/users", 200, 1ms);
  recorder.request_finished("/admin/users", 401, 1ms);
  recorder.request_finished("/admin/users", 400, 1ms);
  recorder.request_finished("/admin/users/{id}/disable", 403, 1ms);
  recorder.request_finished("/admin/users/{id}/disable", 404, 1ms);
  recorder.request_finished("/admin/users/{id}/disable", 503, 1ms);
  recorder.request_finished("/health", 200, 1ms);
  const auto s = take_snapshot(*block);
  EXPECT_EQ(s.admin_requests[2][admin_outcome_slot(200)], 2u);
  EXPECT_EQ(s.admin_requests[2][admin_outcome_slot(401)], 1u);
  EXPECT_EQ(s.admin_requests[1][admin_outcome_slot(200)], 0u) << "/health is not an admin route";
  const std::string text = recorder.render();
  for (
      const char* line :
      {R"(authd_admin_requests_total{route="/admin/users",outcome="ok"} 2)",
       R"(authd_admin_requests_total{route="/admin/users",outcome="invalid_key"} 1)",
       R"(authd_admin_requests_total{route="/admin/users",outcome="bad_request"} 1)",
       R"(authd_admin_requests_total{route="/admin/users/{id}/disable",outcome="insufficient_scope"} 1)",
       R"(authd_admin_requests_total{route="/admin/users/{id}/disable",outcome="not_found"} 1)",
       R"(authd_admin_requests_total{route="/admin/users/{id}/disable",outcome="error"} 1)"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  EXPECT_EQ(text.find(R"(authd_admin_requests_total{route="/health")"), std::string::npos);
}

TEST_F(RecorderTest, TwoRecordersOnOneBlockAddUp) {
  Recorder other(*block, 4343);
  other.set_routes({"/health", "/auth/login"});
  recorder.request_finished("/auth/login", 200, 1ms);
  other.request_finished("/auth/login", 200, 1ms);
  EXPECT_EQ(block->requests[2][status_slot(200)].load(), 2u);
  EXPECT_EQ(take_snapshot(*block).workers_alive, 2u);
}

TEST_F(RecorderTest, TheTimedHasherReportsHashAndVerify) {
  authd::testing::FakeHasher inner;
  TimedHasher hasher(inner, recorder);
  const std::string h = hasher.hash("pw");
  EXPECT_TRUE(hasher.verify(h, "pw"));
  EXPECT_FALSE(hasher.verify(h, "other"));
  EXPECT_FALSE(hasher.needs_rehash(h));
  EXPECT_EQ(inner.hashes, 1);
  EXPECT_EQ(inner.verifies, 2);
  const auto s = take_snapshot(*block);
  EXPECT_EQ(s.password[0].count(), 1u);
  EXPECT_EQ(s.password[1].count(), 2u);
}

}  // namespace
}  // namespace authd::metrics
