// What the service reports to its MetricsSink: login outcomes and refresh
// reuse, each exactly once per event.
#include <gtest/gtest.h>
#include <liboath/oath.h>

#include "auth/totp.h"
#include "fakes/service_fixture.h"

namespace authd {
namespace {

using authd::testing::kStrongPassword;

class RecordingSink final : public MetricsSink {
 public:
  void login(LoginOutcome o) noexcept override { ++logins[static_cast<int>(o)]; }
  void password_work(PasswordWork, std::chrono::nanoseconds) noexcept override {}
  void refresh_reuse_detected() noexcept override { ++reuse; }
  void database_failure(DatabaseFailure) noexcept override {}
  void database_reconnected() noexcept override {}
  int logins[5] = {};
  int reuse = 0;
};

const ClientInfo kClient{"203.0.113.7", "agent"};

class MetricsReportingTest : public ::testing::Test {
 protected:
  authd::testing::ServiceWorld w;
  RecordingSink sink;
  AuthService service{
      ServiceDeps{w.users, w.sessions, w.throttle, w.mfa, w.transactions, w.hasher, w.signer,
                  w.clock, w.random, w.email_tokens, w.outbox, w.mail_requests, w.passkeys, &sink},
      w.policy};

  void SetUp() override {
    ASSERT_TRUE(service.register_user("ann@example.com", kStrongPassword, kClient).ok());
  }
};

TEST_F(MetricsReportingTest, LoginOutcomes) {
  EXPECT_TRUE(service.login("ann@example.com", kStrongPassword, kClient).ok());
  EXPECT_FALSE(service.login("ann@example.com", "wrong", kClient).ok());
  EXPECT_FALSE(service.login("nobody@example.com", "wrong", kClient).ok());
  EXPECT_EQ(sink.logins[static_cast<int>(LoginOutcome::ok)], 1);
  EXPECT_EQ(sink.logins[static_cast<int>(LoginOutcome::failed)], 2);
  EXPECT_EQ(sink.logins[static_cast<int>(LoginOutcome::throttled)], 0);
}

TEST_F(MetricsReportingTest, ThrottledLoginsAreCountedAsSuchNotAsFailures) {
  for (int i = 0; i < 6; ++i)
    EXPECT_FALSE(service.login("ann@example.com", "wrong", kClient).ok());
  auto refused = service.login("ann@example.com", kStrongPassword, kClient);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, AuthErrc::too_many_attempts);
  EXPECT_EQ(sink.logins[static_cast<int>(LoginOutcome::failed)], 6);
  EXPECT_EQ(sink.logins[static_cast<int>(LoginOutcome::throttled)], 1);
  EXPECT_EQ(sink.logins[static_cast<int>(LoginOutcome::ok)], 0);
}

TEST_F(MetricsReportingTest, RefreshReuseOnceOutsideTheGraceWindow) {
  auto grant = service.login("ann@example.com", kStrongPassword, kClient);
  ASSERT_TRUE(grant.ok());
  const std::string first = grant.value().refresh_token;
  ASSERT_TRUE(service.refresh(first, kClient).ok());
  w.clock.advance(5);
  ASSERT_TRUE(service.refresh(first, kClient).ok()) << "a retry inside the grace window";
  EXPECT_EQ(sink.reuse, 0);
  w.clock.advance(10);
  EXPECT_FALSE(service.refresh(first, kClient).ok());
  EXPECT_EQ(sink.reuse, 1);
}

TEST_F(MetricsReportingTest, TheSecondFactorStepReportsItsOwnOutcomes) {
  auto grant = service.login("ann@example.com", kStrongPassword, kClient);
  ASSERT_TRUE(grant.ok());
  auto who = service.authenticate(grant.value().access_token);
  ASSERT_TRUE(who.ok());
  auto setup = service.mfa_setup(who.value(), kStrongPassword, kClient);
  ASSERT_TRUE(setup.ok());
  char* raw = nullptr;
  size_t raw_len = 0;
  const auto& b32 = setup.value().secret_base32;
  ASSERT_EQ(oath_base32_decode(b32.c_str(), b32.size(), &raw, &raw_len), OATH_OK);
  const std::string secret(raw, raw_len);
  free(raw);
  auto code = [&] { return totp::code_at(secret, totp::step_at(w.clock.now())); };
  ASSERT_TRUE(service.mfa_confirm(who.value(), code(), kClient).ok());
  w.clock.advance(30);

  auto challenge = service.login("ann@example.com", kStrongPassword, kClient);
  ASSERT_EQ(challenge.error().code, AuthErrc::mfa_required);
  EXPECT_EQ(sink.logins[static_cast<int>(LoginOutcome::mfa_required)], 1);
  EXPECT_EQ(sink.logins[static_cast<int>(LoginOutcome::ok)], 1) << "only the first, password-only";
  const std::string wrong = code() == "000000" ? "111111" : "000000";
  EXPECT_FALSE(service.mfa_verify(challenge.error().mfa_token, wrong, std::nullopt, kClient).ok());
  EXPECT_EQ(sink.logins[static_cast<int>(LoginOutcome::failed)], 1);
  EXPECT_TRUE(service.mfa_verify(challenge.error().mfa_token, code(), std::nullopt, kClient).ok());
  EXPECT_EQ(sink.logins[static_cast<int>(LoginOutcome::ok)], 2) << "the completed second step";
}

}  // namespace
}  // namespace authd
