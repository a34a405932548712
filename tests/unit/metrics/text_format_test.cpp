// The Prometheus text format of made-up snapshots, line by line.
#include "metrics/text_format.h"

#include "ports/metrics_sink.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>

namespace authd::metrics {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l))
    if (l == line) return true;
  return false;
}

const std::vector<std::string> kRoutes{"unmatched", "/health", "/auth/sessions/{id}"};

TEST(MetricsText, RequestsByRouteAndStatusLeaveOutZeros) {
  auto s = std::make_unique<Snapshot>();
  s->requests[1][status_slot(200)] = 7;
  s->requests[2][status_slot(404)] = 2;
  s->requests[0][status_slot(418)] = 1;
  const std::string text = render_text(*s, kRoutes);
  EXPECT_TRUE(has_line(text, "# TYPE authd_http_requests_total counter"));
  EXPECT_TRUE(has_line(text, R"(authd_http_requests_total{route="/health",status="200"} 7)"));
  EXPECT_TRUE(
      has_line(text, R"(authd_http_requests_total{route="/auth/sessions/{id}",status="404"} 2)"));
  EXPECT_TRUE(has_line(text, R"(authd_http_requests_total{route="unmatched",status="other"} 1)"));
  EXPECT_EQ(text.find(R"(route="/health",status="201")"), std::string::npos);
}

TEST(MetricsText, HistogramsAreCumulativeWithSumAndCount) {
  auto s = std::make_unique<Snapshot>();
  s->latency[1].counts[0] = 3;                        // <= 1 ms
  s->latency[1].counts[2] = 1;                        // <= 5 ms
  s->latency[1].counts[kLatencyBoundsNs.size()] = 1;  // > 10 s
  s->latency[1].sum_ns = 12'500'000'000;
  const std::string text = render_text(*s, kRoutes);
  const std::string h = "authd_http_request_duration_seconds";
  EXPECT_TRUE(has_line(text, "# TYPE " + h + " histogram"));
  EXPECT_TRUE(has_line(text, h + R"(_bucket{route="/health",le="0.001"} 3)"));
  EXPECT_TRUE(has_line(text, h + R"(_bucket{route="/health",le="0.0025"} 3)"));
  EXPECT_TRUE(has_line(text, h + R"(_bucket{route="/health",le="0.005"} 4)"));
  EXPECT_TRUE(has_line(text, h + R"(_bucket{route="/health",le="10"} 4)"));
  EXPECT_TRUE(has_line(text, h + R"(_bucket{route="/health",le="+Inf"} 5)"));
  EXPECT_TRUE(has_line(text, h + R"(_sum{route="/health"} 12.5)"));
  EXPECT_TRUE(has_line(text, h + R"(_count{route="/health"} 5)"));
  EXPECT_EQ(text.find(R"(route="/auth/sessions/{id}",le=)"), std::string::npos)
      << "a route never seen has no histogram";
}

TEST(MetricsText, FixedSeriesArePresentAtZero) {
  auto s = std::make_unique<Snapshot>();
  const std::string text = render_text(*s, kRoutes);
  for (const char* line :
       {R"(authd_logins_total{outcome="ok"} 0)", R"(authd_logins_total{outcome="failed"} 0)",
        R"(authd_logins_total{outcome="throttled"} 0)",
        R"(authd_logins_total{outcome="disabled"} 0)",
        R"(authd_logins_total{outcome="mfa_required"} 0)", "authd_refresh_token_reuse_total 0",
        R"(authd_db_errors_total{kind="connect"} 0)", R"(authd_db_errors_total{kind="lost"} 0)",
        R"(authd_db_errors_total{kind="conflict"} 0)",
        R"(authd_db_errors_total{kind="unusable_node"} 0)", "authd_db_reconnects_total 0",
        "authd_worker_restarts_total 0", "authd_workers 0", "authd_workers_busy 0",
        R"(authd_password_hash_duration_seconds_count{operation="hash"} 0)",
        R"(authd_password_hash_duration_seconds_count{operation="verify"} 0)"}) {
    EXPECT_TRUE(has_line(text, line)) << line;
  }
}

TEST(MetricsText, CountersCarryTheirValues) {
  auto s = std::make_unique<Snapshot>();
  s->logins = {5, 3, 1, 0, 2};
  s->refresh_reuse = 2;
  s->db_failures = {4, 1};
  s->db_reconnects = 1;
  s->worker_restarts = 6;
  s->workers_alive = 2;
  s->workers_busy = 1;
  s->password[1].counts[3] = 2;
  s->password[1].sum_ns = 30'000'000;
  const std::string text = render_text(*s, kRoutes);
  EXPECT_TRUE(has_line(text, R"(authd_logins_total{outcome="ok"} 5)"));
  EXPECT_TRUE(has_line(text, R"(authd_logins_total{outcome="throttled"} 1)"));
  EXPECT_TRUE(has_line(text, R"(authd_logins_total{outcome="mfa_required"} 2)"));
  EXPECT_TRUE(has_line(text, "authd_refresh_token_reuse_total 2"));
  EXPECT_TRUE(has_line(text, R"(authd_db_errors_total{kind="connect"} 4)"));
  EXPECT_TRUE(has_line(text, "authd_worker_restarts_total 6"));
  EXPECT_TRUE(has_line(text, "authd_workers 2"));
  EXPECT_TRUE(has_line(text, "authd_workers_busy 1"));
  EXPECT_TRUE(has_line(
      text, R"(authd_password_hash_duration_seconds_bucket{operation="verify",le="0.02"} 2)"));
  EXPECT_TRUE(
      has_line(text, R"(authd_password_hash_duration_seconds_sum{operation="verify"} 0.03)"));
}

TEST(MetricsText, EveryFamilyHasHelpAndTypeAndTheTextEndsWithANewline) {
  auto s = std::make_unique<Snapshot>();
  const std::string text = render_text(*s, kRoutes);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::istringstream in(text);
  std::string line;
  int help = 0;
  int type = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) ++help;
    if (line.rfind("# TYPE ", 0) == 0) ++type;
  }
  EXPECT_EQ(help, 17);
  EXPECT_EQ(type, 17);
}

TEST(MetricsText, AdmissionByLane) {
  auto s = std::make_unique<Snapshot>();
  s->admission_refused = {7, 0};
  s->admission_budget_ms = {30, 3000};
  s->admission_wait[1].counts[0] = 5;  // fast lane: five waited at most 1 ms
  s->admission_refusal_cpu_ns = 1'500'000;
  const std::string text = render_text(*s, kRoutes);
  EXPECT_TRUE(has_line(text, R"(authd_admission_refused_total{lane="hashing"} 7)"));
  EXPECT_TRUE(has_line(text, R"(authd_admission_refused_total{lane="fast"} 0)"));
  EXPECT_TRUE(has_line(text, R"(authd_admission_budget_seconds{lane="hashing"} 0.03)"));
  EXPECT_TRUE(has_line(text, R"(authd_admission_budget_seconds{lane="fast"} 3)"));
  EXPECT_TRUE(has_line(text, R"(authd_admission_wait_seconds_bucket{lane="fast",le="0.001"} 5)"));
  EXPECT_TRUE(has_line(text, R"(authd_admission_wait_seconds_count{lane="fast"} 5)"));
  EXPECT_TRUE(has_line(text, R"(authd_admission_refusal_cpu_seconds_total 0.0015)"));
}

TEST(MetricsText, PasskeyCeremoniesByOutcomeAndKind) {
  auto s = std::make_unique<Snapshot>();
  s->passkey_registrations[static_cast<std::size_t>(PasskeyRegistration::limit)] = 2;
  s->passkey_logins[static_cast<std::size_t>(PasskeyLoginKind::second_factor)]
                   [static_cast<std::size_t>(PasskeyLogin::failed)] = 3;
  const std::string text = render_text(*s, kRoutes);
  EXPECT_TRUE(has_line(text, "# TYPE authd_passkey_registrations_total counter"));
  EXPECT_TRUE(has_line(text, R"(authd_passkey_registrations_total{outcome="limit"} 2)"));
  EXPECT_TRUE(has_line(text, R"(authd_passkey_registrations_total{outcome="ok"} 0)"));
  EXPECT_TRUE(
      has_line(text, R"(authd_passkey_logins_total{kind="second_factor",outcome="failed"} 3)"));
  EXPECT_TRUE(has_line(
      text, R"(authd_passkey_logins_total{kind="passwordless",outcome="invalid_challenge"} 0)"));
}

TEST(MetricsText, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value(R"(a"b\c)"), R"(a\"b\\c)");
  EXPECT_EQ(escape_label_value("x\ny"), R"(x\ny)");
  EXPECT_EQ(escape_label_value("/auth/sessions/{id}"), "/auth/sessions/{id}");
}

}  // namespace
}  // namespace authd::metrics
