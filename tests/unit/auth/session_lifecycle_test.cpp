// Refresh rotation, reuse detection, grace window, logout, session lists,
// the session cap and throttling, over in-memory fakes with a manual clock.
#include <gtest/gtest.h>

#include "auth/auth_service.h"
#include "auth/refresh_token.h"
#include "fakes/service_fixture.h"

namespace authd {
namespace {

using testing::kOtherStrongPassword;
using testing::kStrongPassword;
using testing::ServiceWorld;

const ClientInfo kClient{"203.0.113.7", "agent"};
const ClientInfo kOtherClient{"198.51.100.9", "agent"};

class SessionLifecycleTest : public ::testing::Test {
 protected:
  ServiceWorld w;
  void SetUp() override {
    ASSERT_TRUE(w.auth().register_user("ann@example.com", kStrongPassword, kClient).ok());
  }
  TokenGrant login(const ClientInfo& client = kClient) {
    auto r = w.auth().login("ann@example.com", kStrongPassword, client);
    EXPECT_TRUE(r.ok());
    return r.value();
  }
  Authenticated who(const TokenGrant& g) { return w.auth().authenticate(g.access_token).value(); }
};

TEST_F(SessionLifecycleTest, LoginGivesARefreshTokenStoredOnlyAsADigest) {
  auto g = login();
  ASSERT_FALSE(g.refresh_token.empty());
  EXPECT_EQ(refresh_token_session(g.refresh_token), g.session.id);
  const Session& s = w.sessions.sessions.at(g.session.id);
  EXPECT_EQ(s.refresh_hash, refresh_token_digest(g.refresh_token));
  EXPECT_EQ(s.refresh_hash.find(g.refresh_token), std::string::npos);
  EXPECT_EQ(g.refresh_expires_in, 14 * 86400);
}

TEST_F(SessionLifecycleTest, RefreshRotatesAndKeepsTheSession) {
  auto g = login();
  w.clock.advance(60);
  auto r = w.auth().refresh(g.refresh_token, kClient);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.value().refresh_token, g.refresh_token);
  EXPECT_EQ(r.value().session.id, g.session.id);
  auto claims = w.signer.verify(r.value().access_token, w.clock.now());
  EXPECT_EQ(claims->sid, g.session.id.to_string());
  EXPECT_EQ(claims->auth_time, g.session.auth_time) << "refresh keeps auth_time";
  EXPECT_EQ(w.sessions.sessions.at(g.session.id).last_used_at, w.clock.now());
  EXPECT_TRUE(w.auth().refresh(r.value().refresh_token, kClient).ok()) << "the new one works";
}

TEST_F(SessionLifecycleTest, RetryInsideTheGraceWindowGetsTheSameNewToken) {
  auto g = login();
  auto first = w.auth().refresh(g.refresh_token, kClient);
  w.clock.advance(5);
  auto retry = w.auth().refresh(g.refresh_token, kClient);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry.value().refresh_token, first.value().refresh_token);
  EXPECT_EQ(retry.value().session.id, g.session.id);
  EXPECT_TRUE(w.auth().authenticate(retry.value().access_token).ok());
  EXPECT_FALSE(w.sessions.sessions.at(g.session.id).revoked_at);
}

TEST_F(SessionLifecycleTest, ReuseOutsideTheGraceWindowEndsTheSession) {
  auto g = login();
  auto first = w.auth().refresh(g.refresh_token, kClient);
  w.clock.advance(11);
  auto reuse = w.auth().refresh(g.refresh_token, kClient);
  EXPECT_EQ(reuse.error().code, AuthErrc::invalid_token);
  EXPECT_TRUE(w.sessions.sessions.at(g.session.id).revoked_at);
  EXPECT_FALSE(w.auth().refresh(first.value().refresh_token, kClient).ok())
      << "the whole session is gone";
  EXPECT_FALSE(w.auth().authenticate(first.value().access_token).ok());
}

TEST(SessionLifecycleGraceTest, GraceZeroMakesARetryInTheSameSecondReuse) {
  ServicePolicy policy;
  policy.refresh_reuse_grace_s = 0;
  ServiceWorld w(policy);
  ASSERT_TRUE(w.auth().register_user("ann@example.com", kStrongPassword, kClient).ok());
  auto g = w.auth().login("ann@example.com", kStrongPassword, kClient).value();
  auto first = w.auth().refresh(g.refresh_token, kClient);
  ASSERT_TRUE(first.ok());
  // Same second on the clock: with a grace of 0 there is no window at all.
  auto retry = w.auth().refresh(g.refresh_token, kClient);
  EXPECT_EQ(retry.error().code, AuthErrc::invalid_token);
  EXPECT_TRUE(w.sessions.sessions.at(g.session.id).revoked_at);
}

TEST_F(SessionLifecycleTest, GraceWindowEndsAfterItsLastWholeSecond) {
  auto g = login();
  auto first = w.auth().refresh(g.refresh_token, kClient);
  w.clock.advance(10);
  EXPECT_TRUE(w.auth().refresh(g.refresh_token, kClient).ok()) << "10 s on the clock: inside";
  w.clock.advance(1);
  EXPECT_FALSE(w.auth().refresh(g.refresh_token, kClient).ok()) << "11 s: reuse";
  EXPECT_TRUE(w.sessions.sessions.at(g.session.id).revoked_at);
}

TEST_F(SessionLifecycleTest, RetryAfterTheNewTokenWasUsedIsReuse) {
  auto g = login();
  auto first = w.auth().refresh(g.refresh_token, kClient);
  auto second = w.auth().refresh(first.value().refresh_token, kClient);
  ASSERT_TRUE(second.ok());
  auto retry = w.auth().refresh(g.refresh_token, kClient);  // within 10 s, but t1 is spent
  EXPECT_FALSE(retry.ok());
  EXPECT_TRUE(w.sessions.sessions.at(g.session.id).revoked_at);
}

TEST_F(SessionLifecycleTest, GarbageAndForeignTokensAreRefusedWithoutRevoking) {
  auto g = login();
  for (std::string bad : {std::string(""), std::string("abc"), std::string(64, 'A'),
                          g.refresh_token.substr(0, 63) + "x"}) {
    EXPECT_EQ(w.auth().refresh(bad, kClient).error().code, AuthErrc::invalid_token);
  }
  // A well-formed token for this session but never issued: not reuse.
  testing::SeededRandom other;
  auto forged = new_refresh_token(g.session.id, other);
  EXPECT_FALSE(w.auth().refresh(forged, kClient).ok());
  EXPECT_FALSE(w.sessions.sessions.at(g.session.id).revoked_at);
}

TEST_F(SessionLifecycleTest, IdleAndAbsoluteLifetimesEndRefresh) {
  ServicePolicy p;
  p.refresh_idle_ttl_s = 100;
  p.refresh_absolute_ttl_s = 250;
  ServiceWorld s(p);
  ASSERT_TRUE(s.auth().register_user("ann@example.com", kStrongPassword, kClient).ok());
  auto g = s.auth().login("ann@example.com", kStrongPassword, kClient).value();
  EXPECT_EQ(g.refresh_expires_in, 100);
  s.clock.advance(99);
  auto r1 = s.auth().refresh(g.refresh_token, kClient);
  ASSERT_TRUE(r1.ok());
  s.clock.advance(99);
  auto r2 = s.auth().refresh(r1.value().refresh_token, kClient);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2.value().refresh_expires_in, 250 - 198) << "what remains of the absolute life";
  s.clock.advance(52);
  EXPECT_FALSE(s.auth().refresh(r2.value().refresh_token, kClient).ok()) << "absolute end";

  auto g2 = s.auth().login("ann@example.com", kStrongPassword, kClient).value();
  s.clock.advance(100);
  EXPECT_FALSE(s.auth().refresh(g2.refresh_token, kClient).ok()) << "idle end";
}

TEST_F(SessionLifecycleTest, PasswordChangeEndsRefreshTokensToo) {
  auto g = login();
  ASSERT_TRUE(w.auth()
                  .change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                                   std::nullopt, kClient)
                  .ok());
  EXPECT_FALSE(w.auth().refresh(g.refresh_token, kClient).ok());
}

TEST_F(SessionLifecycleTest, LogoutEndsThisSessionOnly) {
  auto a = login();
  auto b = login();
  ASSERT_TRUE(w.auth().logout(who(a), false, kClient).ok());
  EXPECT_FALSE(w.auth().authenticate(a.access_token).ok());
  EXPECT_FALSE(w.auth().refresh(a.refresh_token, kClient).ok());
  EXPECT_TRUE(w.auth().authenticate(b.access_token).ok());
}

TEST_F(SessionLifecycleTest, LogoutAllNeedsARecentLogin) {
  auto a = login();
  auto b = login();
  w.clock.advance(301);
  auto fresh = login();
  auto stale = w.auth().refresh(a.refresh_token, kClient).value();
  EXPECT_EQ(w.auth().logout(who(stale), true, kClient).error().code,
            AuthErrc::reauthentication_required)
      << "refreshing keeps auth_time, so it does not count";
  EXPECT_TRUE(w.auth().authenticate(b.access_token).ok());
  auto ended = w.auth().logout(who(fresh), true, kClient);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended.value(), 3);
  EXPECT_FALSE(w.auth().authenticate(b.access_token).ok());
  EXPECT_FALSE(w.auth().authenticate(fresh.access_token).ok());
}

TEST_F(SessionLifecycleTest, ListAndEndSessions) {
  auto a = login();
  w.clock.advance(1);
  auto b = login(kOtherClient);
  auto list = w.auth().list_sessions(who(b)).value();
  ASSERT_EQ(list.sessions.size(), 2u);
  EXPECT_EQ(list.sessions[0].id, b.session.id) << "most recently used first";
  EXPECT_EQ(list.current, b.session.id);
  EXPECT_EQ(list.sessions[0].ip, kOtherClient.ip);

  EXPECT_EQ(w.auth().end_session(who(b), "not-a-uuid", kClient).error().code, AuthErrc::not_found);
  EXPECT_EQ(
      w.auth().end_session(who(b), "01900000-0000-7000-8000-000000000000", kClient).error().code,
      AuthErrc::not_found);
  ASSERT_TRUE(w.auth().end_session(who(b), a.session.id.to_string(), kClient).ok());
  EXPECT_FALSE(w.auth().authenticate(a.access_token).ok());
  EXPECT_EQ(w.auth().end_session(who(b), a.session.id.to_string(), kClient).error().code,
            AuthErrc::not_found)
      << "no longer live";
}

TEST_F(SessionLifecycleTest, EndingAnotherSessionNeedsARecentLoginButOwnDoesNot) {
  auto a = login();
  auto b = login();
  w.clock.advance(301);
  b = w.auth().refresh(b.refresh_token, kClient).value();
  EXPECT_EQ(w.auth().end_session(who(b), a.session.id.to_string(), kClient).error().code,
            AuthErrc::reauthentication_required);
  EXPECT_TRUE(w.auth().end_session(who(b), b.session.id.to_string(), kClient).ok());
}

TEST_F(SessionLifecycleTest, AnotherUsersSessionIsNotFound) {
  ASSERT_TRUE(w.auth().register_user("bob@example.com", kStrongPassword, kClient).ok());
  auto ann = login();
  auto bob = w.auth().login("bob@example.com", kStrongPassword, kClient).value();
  EXPECT_EQ(w.auth().end_session(who(ann), bob.session.id.to_string(), kClient).error().code,
            AuthErrc::not_found);
  EXPECT_TRUE(w.auth().authenticate(bob.access_token).ok());
}

TEST_F(SessionLifecycleTest, SessionCapEndsTheLeastRecentlyUsed) {
  ServicePolicy p;
  p.max_sessions_per_user = 3;
  ServiceWorld s(p);
  ASSERT_TRUE(s.auth().register_user("ann@example.com", kStrongPassword, kClient).ok());
  std::vector<TokenGrant> grants;
  for (int i = 0; i < 3; ++i) {
    grants.push_back(s.auth().login("ann@example.com", kStrongPassword, kClient).value());
    s.clock.advance(1);
  }
  // Use the first one, so the second becomes the least recently used.
  grants[0] = s.auth().refresh(grants[0].refresh_token, kClient).value();
  s.clock.advance(1);
  auto fourth = s.auth().login("ann@example.com", kStrongPassword, kClient).value();
  EXPECT_TRUE(s.auth().authenticate(grants[0].access_token).ok());
  EXPECT_FALSE(s.auth().authenticate(grants[1].access_token).ok()) << "least recently used";
  EXPECT_TRUE(s.auth().authenticate(grants[2].access_token).ok());
  EXPECT_TRUE(s.auth().authenticate(fourth.access_token).ok());
}

TEST_F(SessionLifecycleTest, SeventhQuickAttemptIsRefusedBeforeAnyHash) {
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(w.auth().login("ann@example.com", "wrong password!", kClient).error().code,
              AuthErrc::invalid_credentials);
  }
  int verifies = w.hasher.verifies;
  auto seventh = w.auth().login("ann@example.com", kStrongPassword, kClient);
  EXPECT_EQ(seventh.error().code, AuthErrc::too_many_attempts);
  EXPECT_EQ(seventh.error().retry_after_s, 30);
  EXPECT_EQ(w.hasher.verifies, verifies) << "a throttled attempt spends no hash";
  // The owner from another address is not locked out.
  EXPECT_TRUE(w.auth().login("ann@example.com", kStrongPassword, kOtherClient).ok());
  w.clock.advance(30);
  EXPECT_TRUE(w.auth().login("ann@example.com", kStrongPassword, kClient).ok());
  EXPECT_TRUE(w.auth().login("ann@example.com", "wrong password!", kClient).error().code ==
              AuthErrc::invalid_credentials)
      << "the success cleared the counters";
}

TEST_F(SessionLifecycleTest, UnknownEmailsAreThrottledAlike) {
  for (int i = 0; i < 6; ++i)
    w.auth().login("nobody@example.com", "pw", kClient);
  EXPECT_EQ(w.auth().login("nobody@example.com", "pw", kClient).error().code,
            AuthErrc::too_many_attempts);
}

TEST_F(SessionLifecycleTest, PasswordChangeFailuresCountWithLoginFailures) {
  for (int i = 0; i < 3; ++i)
    w.auth().login("ann@example.com", "wrong password!", kClient);
  for (int i = 0; i < 3; ++i)
    w.auth().change_password("ann@example.com", "wrong password!", kOtherStrongPassword,
                             std::nullopt, kClient);
  EXPECT_EQ(w.auth()
                .change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                                 std::nullopt, kClient)
                .error()
                .code,
            AuthErrc::too_many_attempts);
}

TEST_F(SessionLifecycleTest, AfterFailuresAnAttemptIsCountedOnceBeforeTheHash) {
  for (int i = 0; i < 2; ++i)
    w.auth().login("ann@example.com", "wrong password!", kClient);
  ASSERT_EQ(w.throttle.read("ann@example.com", kClient.ip).pair.failures, 2u);
  EXPECT_FALSE(w.auth().login("ann@example.com", "wrong password!", kClient).ok());
  EXPECT_EQ(w.throttle.read("ann@example.com", kClient.ip).pair.failures, 3u)
      << "reserved before the hash and not counted again after it";
  EXPECT_EQ(w.throttle.read("ann@example.com", kClient.ip).email.failures, 3u);
  EXPECT_TRUE(w.auth().login("ann@example.com", kStrongPassword, kClient).ok());
  EXPECT_EQ(w.throttle.read("ann@example.com", kClient.ip).pair.failures, 0u) << "cleared";
}

TEST_F(SessionLifecycleTest, TheRightPasswordOfADisabledAccountGivesItsReservationBack) {
  for (int i = 0; i < 5; ++i)
    w.auth().login("ann@example.com", "wrong password!", kClient);
  const auto before = w.throttle.read("ann@example.com", kClient.ip);
  w.users.users.begin()->second.disabled_at = w.clock.now();
  EXPECT_EQ(w.auth().login("ann@example.com", kStrongPassword, kClient).error().code,
            AuthErrc::account_disabled);
  const auto after = w.throttle.read("ann@example.com", kClient.ip);
  EXPECT_EQ(after.pair.failures, before.pair.failures) << "neither a failure nor a success";
  EXPECT_EQ(after.pair.blocked_until, 0) << "the 6th attempt's block went back with it";
  EXPECT_EQ(after.email.failures, before.email.failures);
  EXPECT_EQ(w.auth()
                .change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                                 std::nullopt, kClient)
                .error()
                .code,
            AuthErrc::account_disabled);
  EXPECT_EQ(w.throttle.read("ann@example.com", kClient.ip).pair.failures, before.pair.failures);
}

}  // namespace
}  // namespace authd
