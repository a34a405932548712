#include "auth/auth_service.h"

#include <gtest/gtest.h>

#include "fakes/service_fixture.h"

namespace authd {
namespace {

using testing::kOtherStrongPassword;
using testing::kStrongPassword;
using testing::ServiceWorld;

const ClientInfo kClient{"203.0.113.7", "test-agent"};

class AuthServiceTest : public ::testing::Test {
 protected:
  ServiceWorld w;

  User registered(std::string email = "ann@example.com", std::string pw = kStrongPassword) {
    auto r = w.auth().register_user(email, pw, kClient);
    EXPECT_TRUE(r.ok());
    return r.value();
  }
  TokenGrant logged_in(std::string email = "ann@example.com", std::string pw = kStrongPassword) {
    auto r = w.auth().login(email, pw, kClient);
    EXPECT_TRUE(r.ok());
    return r.value();
  }
};

TEST_F(AuthServiceTest, RegisterStoresNormalisedEmailAndHashOnly) {
  auto user = registered("  Ann@Example.COM ");
  EXPECT_EQ(user.email, "ann@example.com");
  ASSERT_EQ(w.users.users.size(), 1u);
  const User& stored = w.users.users.begin()->second;
  EXPECT_EQ(stored.email, "ann@example.com");
  EXPECT_NE(stored.password_hash, kStrongPassword);
  EXPECT_EQ(stored.created_at, w.clock.now());
  EXPECT_EQ(stored.password_changed_at, stored.created_at);
  EXPECT_EQ(stored.id.bytes[6] >> 4, 7) << "UUIDv7";
}

TEST_F(AuthServiceTest, RegisterJudgesEmailThenPasswordThenTaken) {
  auto r = w.auth().register_user("not-an-email", "short", kClient);
  EXPECT_EQ(r.error().code, AuthErrc::invalid_email);
  r = w.auth().register_user("ann@example.com", "password", kClient);
  EXPECT_EQ(r.error().code, AuthErrc::weak_password);
  registered();
  r = w.auth().register_user("ANN@example.com", "password", kClient);
  EXPECT_EQ(r.error().code, AuthErrc::weak_password) << "weak on a taken email says nothing";
  int hashes_before = w.hasher.hashes;
  r = w.auth().register_user("ANN@example.com", kOtherStrongPassword, kClient);
  EXPECT_EQ(r.error().code, AuthErrc::email_taken);
  EXPECT_EQ(w.hasher.hashes, hashes_before + 1) << "a taken email costs a hash like a free one";
}

TEST_F(AuthServiceTest, RegisterRefusesNulInPassword) {
  auto r =
      w.auth().register_user("ann@example.com", std::string("violet-Harbor\0-92", 17), kClient);
  EXPECT_EQ(r.error().code, AuthErrc::weak_password);
}

TEST_F(AuthServiceTest, LoginOpensASessionAndSignsItsToken) {
  auto user = registered();
  auto grant = logged_in("ANN@example.com ");
  EXPECT_EQ(grant.user.id, user.id);
  EXPECT_EQ(grant.expires_in, 900);
  ASSERT_EQ(w.sessions.sessions.size(), 1u);
  const Session& s = w.sessions.sessions.begin()->second;
  EXPECT_EQ(s.user_id, user.id);
  EXPECT_EQ(s.ip, kClient.ip);
  EXPECT_EQ(s.amr, "pwd");
  auto claims = w.signer.verify(grant.access_token, w.clock.now());
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->sub, user.id.to_string());
  EXPECT_EQ(claims->sid, s.id.to_string());
  EXPECT_EQ(claims->email, "ann@example.com");
  EXPECT_EQ(claims->amr, std::vector<std::string>{"pwd"});
  EXPECT_EQ(claims->exp - claims->iat, 900);
  EXPECT_EQ(claims->auth_time, w.clock.now());
}

TEST_F(AuthServiceTest, WrongPasswordAndUnknownEmailAnswerAlikeAtTheSameCost) {
  registered();
  int before = w.hasher.verifies;
  auto wrong = w.auth().login("ann@example.com", "wrong password!", kClient);
  EXPECT_EQ(wrong.error().code, AuthErrc::invalid_credentials);
  EXPECT_EQ(w.hasher.verifies, before + 1);
  auto unknown = w.auth().login("bob@example.com", kStrongPassword, kClient);
  EXPECT_EQ(unknown.error().code, AuthErrc::invalid_credentials);
  EXPECT_EQ(w.hasher.verifies, before + 2) << "unknown email verified against the dummy hash";
  EXPECT_TRUE(w.sessions.sessions.empty());
}

TEST_F(AuthServiceTest, RevealUnknownEmailOnlyWhenConfigured) {
  w.policy.reveal_unknown_email = true;
  w.rebuild();
  registered();
  EXPECT_EQ(w.auth().login("bob@example.com", kStrongPassword, kClient).error().code,
            AuthErrc::unknown_email);
  EXPECT_EQ(w.auth().login("ann@example.com", "wrong password!", kClient).error().code,
            AuthErrc::invalid_credentials);
}

TEST_F(AuthServiceTest, NulPasswordAtLoginIsJustWrong) {
  registered();
  auto r = w.auth().login("ann@example.com", std::string(kStrongPassword) + std::string(1, '\0'),
                          kClient);
  EXPECT_EQ(r.error().code, AuthErrc::invalid_credentials);
}

TEST_F(AuthServiceTest, PasswordsAreComparedAfterNfkc) {
  registered("ann@example.com", "caf\xc3\xa9-Harbor-92-lantern");  // é composed
  auto r = w.auth().login("ann@example.com", "cafe\xcc\x81-Harbor-92-lantern", kClient);
  EXPECT_TRUE(r.ok()) << "decomposed é is the same password";
}

TEST_F(AuthServiceTest, DisabledAccountIsSaidOnlyToTheRightPassword) {
  auto user = registered();
  w.users.users[user.id].disabled_at = w.clock.now();
  EXPECT_EQ(w.auth().login("ann@example.com", "wrong password!", kClient).error().code,
            AuthErrc::invalid_credentials);
  EXPECT_EQ(w.auth().login("ann@example.com", kStrongPassword, kClient).error().code,
            AuthErrc::account_disabled);
}

TEST_F(AuthServiceTest, LoginUpgradesAHashMadeAtAnotherCost) {
  auto user = registered();
  auto changed_at = w.users.users[user.id].password_changed_at;
  w.clock.advance(100);
  w.hasher.cost = 2;
  logged_in();
  EXPECT_EQ(w.users.users[user.id].password_hash.rfind("h2:", 0), 0u);
  EXPECT_EQ(w.users.users[user.id].password_changed_at, changed_at) << "a re-hash is no change";
}

TEST_F(AuthServiceTest, ChangePasswordEndsEveryOtherSessionInOneCommit) {
  auto user = registered();
  auto first = logged_in();
  auto second = logged_in();
  // Same second as the logins: revocation is by session, not by time.
  const int commits_before = w.transactions.commits;
  auto changed = w.auth().change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                                          std::nullopt, kClient);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(w.transactions.commits, commits_before + 1);
  EXPECT_FALSE(w.auth().authenticate(first.access_token).ok());
  EXPECT_FALSE(w.auth().authenticate(second.access_token).ok());
  EXPECT_TRUE(w.auth().authenticate(changed.value().access_token).ok());
  EXPECT_EQ(w.users.users[user.id].password_changed_at, w.clock.now());
  EXPECT_TRUE(w.auth().login("ann@example.com", kOtherStrongPassword, kClient).ok());
  EXPECT_FALSE(w.auth().login("ann@example.com", kStrongPassword, kClient).ok());
}

TEST_F(AuthServiceTest, ChangePasswordJudgesCredentialsBeforeRules) {
  registered();
  auto r = w.auth().change_password("ann@example.com", "wrong password!", "short", std::nullopt,
                                    kClient);
  EXPECT_EQ(r.error().code, AuthErrc::invalid_credentials);
  r = w.auth().change_password("bob@example.com", kStrongPassword, kOtherStrongPassword,
                               std::nullopt, kClient);
  EXPECT_EQ(r.error().code, AuthErrc::invalid_credentials);
  r = w.auth().change_password("ann@example.com", kStrongPassword, kStrongPassword, std::nullopt,
                               kClient);
  EXPECT_EQ(r.error().code, AuthErrc::password_unchanged);
  r = w.auth().change_password("ann@example.com", kStrongPassword, "password", std::nullopt,
                               kClient);
  EXPECT_EQ(r.error().code, AuthErrc::weak_password);
  r = w.auth().change_password("ann@example.com", kStrongPassword, std::string("a\0b", 3),
                               std::nullopt, kClient);
  EXPECT_EQ(r.error().code, AuthErrc::weak_password);
}

TEST_F(AuthServiceTest, ChangePasswordLosesARaceCleanly) {
  auto user = registered();
  auto old_session = logged_in();
  // Another worker changes the password between our read and our write.
  w.users.after_find = [&] { w.users.users[user.id].password_hash = "h1:someone else's"; };
  auto r = w.auth().change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                                    std::nullopt, kClient);
  w.users.after_find = nullptr;
  EXPECT_EQ(r.error().code, AuthErrc::invalid_credentials);
  EXPECT_EQ(w.users.users[user.id].password_hash, "h1:someone else's") << "the winner stays";
  EXPECT_EQ(w.sessions.sessions.size(), 1u) << "no session opened by the loser";
  EXPECT_TRUE(w.auth().authenticate(old_session.access_token).ok())
      << "the loser revoked nothing (the winner's transaction does that)";
}

TEST_F(AuthServiceTest, AuthenticateRefusesEndedSessions) {
  registered();
  auto grant = logged_in();
  ASSERT_TRUE(w.auth().authenticate(grant.access_token).ok());
  auto& session = w.sessions.sessions.begin()->second;
  session.revoked_at = w.clock.now();
  EXPECT_EQ(w.auth().authenticate(grant.access_token).error().code, AuthErrc::invalid_token);
}

TEST_F(AuthServiceTest, AuthenticateRefusesExpiredTokensAndIdleSessions) {
  registered();
  auto grant = logged_in();
  w.clock.advance(900 + 30);
  EXPECT_FALSE(w.auth().authenticate(grant.access_token).ok()) << "token expired";

  ServicePolicy short_idle;
  short_idle.refresh_idle_ttl_s = 60;
  ServiceWorld idle(short_idle);
  ASSERT_TRUE(idle.auth().register_user("ann@example.com", kStrongPassword, kClient).ok());
  auto g = idle.auth().login("ann@example.com", kStrongPassword, kClient).value();
  idle.clock.advance(59);
  EXPECT_TRUE(idle.auth().authenticate(g.access_token).ok());
  idle.clock.advance(1);
  EXPECT_FALSE(idle.auth().authenticate(g.access_token).ok()) << "idle lifetime over";
}

TEST_F(AuthServiceTest, AuthenticateRefusesATokenForAnotherUsersSession) {
  registered("ann@example.com");
  registered("bob@example.com");
  auto ann = logged_in("ann@example.com");
  auto bob = logged_in("bob@example.com");
  auto claims = *w.signer.verify(ann.access_token, w.clock.now());
  claims.sid = bob.session.id.to_string();
  EXPECT_FALSE(w.auth().authenticate(w.signer.sign(claims)).ok());
}

TEST_F(AuthServiceTest, CurrentUserOfADisabledAccountIsRefused) {
  auto user = registered();
  auto grant = logged_in();
  EXPECT_TRUE(w.auth().current_user(grant.access_token).ok());
  w.users.users[user.id].disabled_at = w.clock.now();
  EXPECT_FALSE(w.auth().current_user(grant.access_token).ok());
}

TEST_F(AuthServiceTest, CurrentUserNeedsALiveSessionOfThatUser) {
  registered();
  registered("bob@example.com");
  auto grant = logged_in();
  ASSERT_TRUE(w.auth().current_user(grant.access_token).ok());
  w.sessions.sessions[grant.session.id].revoked_at = w.clock.now();
  EXPECT_EQ(w.auth().current_user(grant.access_token).error().code, AuthErrc::invalid_token);
  auto bob = logged_in("bob@example.com");
  auto claims = *w.signer.verify(bob.access_token, w.clock.now());
  claims.sid = grant.session.id.to_string();  // ann's session under bob's name
  EXPECT_FALSE(w.auth().current_user(w.signer.sign(claims)).ok());
  EXPECT_FALSE(w.auth().current_user("not.a.token").ok());
}

TEST_F(AuthServiceTest, StoreOutagePropagatesForThe503) {
  registered();
  w.users.unavailable = true;
  EXPECT_THROW(w.auth().login("ann@example.com", kStrongPassword, kClient), StoreUnavailable);
}

}  // namespace
}  // namespace authd
