// A transaction whose COMMIT loses to a concurrent writer (on a Galera
// cluster: a failed certification, 1213) is run again whole by the
// transaction runner (FakeTransactions::conflicts_at_commit does what
// MysqlTransactionRunner does). Each use case must then decide afresh on
// what it re-reads: the answer is the one it would give had the winner's
// write come first, and nothing of the lost run survives.
#include <gtest/gtest.h>

#include "auth/operator_service.h"
#include "fakes/service_fixture.h"

namespace authd {
namespace {

using testing::kOtherStrongPassword;
using testing::kStrongPassword;
using testing::ServiceWorld;

const ClientInfo kClient{"198.51.100.4", "test-agent"};

class ConflictRetryTest : public ::testing::Test {
 protected:
  ServiceWorld w;

  TokenGrant logged_in(const std::string& email = "ann@example.com") {
    EXPECT_TRUE(w.auth().register_user(email, kStrongPassword, kClient).ok());
    auto g = w.auth().login(email, kStrongPassword, kClient);
    EXPECT_TRUE(g.ok());
    return g.value();
  }
  std::size_t live_sessions() {
    std::size_t n = 0;
    for (const auto& [id, s] : w.sessions.sessions)
      n += s.revoked_at ? 0 : 1;
    return n;
  }
};

TEST_F(ConflictRetryTest, ARegistrationRunAgainMakesOneAccountOneLinkOneMessage) {
  w.transactions.conflicts_at_commit = 1;
  auto r = w.auth().register_user("ann@example.com", kStrongPassword, kClient);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(w.transactions.conflicts, 1);
  EXPECT_EQ(w.users.users.size(), 1u);
  EXPECT_EQ(w.outbox.rows.size(), 1u) << "the lost run's message was rolled back with it";
  EXPECT_EQ(w.email_tokens.tokens.size(), 1u);
}

// Sign-up of one email through two nodes: the run that lost to the other
// account's commit finds the email taken. One account.
TEST_F(ConflictRetryTest, ASignUpThatLostToTheSameEmailAnswersTaken) {
  w.transactions.conflicts_at_commit = 1;
  w.transactions.conflict_winner = [&] {
    ASSERT_TRUE(w.auth().register_user("ann@example.com", kOtherStrongPassword, kClient).ok());
  };
  auto r = w.auth().register_user("ann@example.com", kStrongPassword, kClient);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::email_taken);
  EXPECT_EQ(w.users.users.size(), 1u);
  EXPECT_EQ(w.outbox.rows.size(), 1u);
}

TEST_F(ConflictRetryTest, ALoginRunAgainOpensOneSession) {
  ASSERT_TRUE(w.auth().register_user("ann@example.com", kStrongPassword, kClient).ok());
  w.transactions.conflicts_at_commit = 1;
  auto g = w.auth().login("ann@example.com", kStrongPassword, kClient);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(w.transactions.conflicts, 1);
  EXPECT_EQ(w.sessions.sessions.size(), 1u);
  EXPECT_TRUE(w.auth().authenticate(g.value().access_token).ok());
}

// Two refreshes of one token through two nodes: the first rotation commits;
// the other run loses, runs again, finds its token just spent (inside the
// grace window) and answers the same new token. Exactly one rotation, no
// reuse alarm, the family intact.
TEST_F(ConflictRetryTest, TwoRefreshesOfOneTokenRotateOnceAndAgree) {
  const TokenGrant g = logged_in();
  std::string winner_token;
  w.transactions.conflicts_at_commit = 1;
  w.transactions.conflict_winner = [&] {
    auto won = w.auth().refresh(g.refresh_token, kClient);
    ASSERT_TRUE(won.ok());
    winner_token = won.value().refresh_token;
  };
  auto r = w.auth().refresh(g.refresh_token, kClient);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().refresh_token, winner_token);
  EXPECT_EQ(live_sessions(), 1u);
  EXPECT_TRUE(w.auth().refresh(winner_token, kClient).ok()) << "the one new token works";
}

// Outside the grace window the loser's second look finds a spent token:
// reuse, and the session ends, as the contract says of reuse.
TEST_F(ConflictRetryTest, ARefreshThatLostToAnOldRotationIsReuse) {
  const TokenGrant g = logged_in();
  const std::int64_t past_grace = w.policy.refresh_reuse_grace_s + 1;
  w.clock.advance(past_grace);
  w.transactions.conflicts_at_commit = 1;
  // The rotation this run lost to, stamped longer than the grace window
  // before this run's time.
  w.transactions.conflict_winner = [&] {
    w.clock.advance(-past_grace);
    ASSERT_TRUE(w.auth().refresh(g.refresh_token, kClient).ok());
    w.clock.advance(past_grace);
  };
  auto r = w.auth().refresh(g.refresh_token, kClient);
  EXPECT_EQ(w.transactions.conflicts, 1);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(live_sessions(), 0u);
}

TEST_F(ConflictRetryTest, APasswordChangeRunAgainEndsTheOldSessionsOnce) {
  const TokenGrant g = logged_in();
  w.transactions.conflicts_at_commit = 1;
  auto r = w.auth().change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                                    std::nullopt, kClient);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(w.transactions.conflicts, 1);
  EXPECT_EQ(live_sessions(), 1u) << "only the new session";
  EXPECT_FALSE(w.auth().authenticate(g.access_token).ok());
  EXPECT_TRUE(w.auth().login("ann@example.com", kOtherStrongPassword, kClient).ok());
}

TEST_F(ConflictRetryTest, AnOperatorDisableRunAgainCountsTheSessionsItEnded) {
  logged_in();
  OperatorService ops{w.users,        w.sessions,     w.throttle, w.mfa,
                      w.email_tokens, w.transactions, w.clock};
  w.transactions.conflicts_at_commit = 1;
  auto r = ops.disable_user("ann@example.com");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(w.transactions.conflicts, 1);
  EXPECT_EQ(r.value().sessions_ended, 1);
  EXPECT_EQ(live_sessions(), 0u);
}

}  // namespace
}  // namespace authd
