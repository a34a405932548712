// DELETE /auth/me's use case over the fakes: what goes, what is sent, the
// order of judging, the second factor, the judgement repeated under the
// account's lock, and a lost commit settled by reading the account again.
#include <gtest/gtest.h>

#include "auth/recovery_codes.h"
#include "fakes/lost_commit.h"
#include "fakes/service_fixture.h"

namespace authd {
namespace {

using testing::kOtherStrongPassword;
using testing::kStrongPassword;
using LostCommit = testing::FakeTransactions::LostCommit;

class CloseAccountTest : public ::testing::Test {
 protected:
  testing::ServiceWorld w;
  const ClientInfo client{"203.0.113.7", "agent"};
  User ann;
  TokenGrant grant;

  void SetUp() override {
    ann = w.auth().register_user("ann@example.com", kStrongPassword, client).value();
    grant = w.auth().login("ann@example.com", kStrongPassword, client).value();
  }
  Authenticated who() { return w.auth().authenticate(grant.access_token).value(); }
  Outcome<User> close(std::string_view password,
                      std::optional<std::string_view> code = std::nullopt) {
    return w.auth().close_account(who(), password, code, client);
  }
  std::size_t outbox_rows_of(const Uuid& id) {
    return static_cast<std::size_t>(
        std::count_if(w.outbox.rows.begin(), w.outbox.rows.end(),
                      [&](const auto& e) { return e.second.mail.user_id == id; }));
  }
};

TEST_F(CloseAccountTest, EverythingOfTheAccountGoesAndANoticeNamingNoAccountIsQueued) {
  auto other = w.auth().login("ann@example.com", kStrongPassword, client).value();
  w.auth().request_password_reset("ann@example.com", client);    // a pending forgot
  w.auth().login("ann@example.com", "wrong password!", client);  // throttle rows
  ASSERT_FALSE(w.mail_requests.queue.empty());
  ASSERT_FALSE(w.throttle.rows.empty());
  ASSERT_EQ(outbox_rows_of(ann.id), 1u) << "the verification message";

  auto closed = close(kStrongPassword);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed.value().id, ann.id);
  EXPECT_TRUE(w.users.users.empty());
  EXPECT_TRUE(w.sessions.sessions.empty());
  EXPECT_TRUE(w.email_tokens.tokens.empty());
  EXPECT_TRUE(w.mail_requests.queue.empty());
  EXPECT_TRUE(w.throttle.rows.empty());
  EXPECT_EQ(outbox_rows_of(ann.id), 0u);
  ASSERT_EQ(w.outbox.rows.size(), 1u);
  const OutgoingMail& notice = w.outbox.rows.begin()->second.mail;
  EXPECT_EQ(notice.kind, MailKind::account_closed);
  EXPECT_FALSE(notice.user_id) << "the notice names no account";
  EXPECT_EQ(notice.recipient, "ann@example.com");
  EXPECT_NE(notice.message.find("Subject: Your account was closed"), std::string::npos);
  // Every token of it is refused; the email registers again, a new account.
  EXPECT_FALSE(w.auth().authenticate(grant.access_token).ok());
  EXPECT_FALSE(w.auth().authenticate(other.access_token).ok());
  EXPECT_FALSE(w.auth().refresh(grant.refresh_token, client).ok());
  auto again = w.auth().register_user("ann@example.com", kOtherStrongPassword, client);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again.value().id, ann.id);
}

TEST_F(CloseAccountTest, AWrongPasswordIsAFailedLoginAndClosesNothing) {
  auto r = close("wrong password!");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_credentials);
  EXPECT_EQ(w.users.users.size(), 1u);
  EXPECT_EQ(w.throttle.read("ann@example.com", client.ip).pair.failures, 1u);
}

TEST_F(CloseAccountTest, ThrottledBeforeThePasswordIsChecked) {
  for (int i = 0; i < 6; ++i)
    w.auth().login("ann@example.com", "wrong password!", client);
  const int verifies = w.hasher.verifies;
  auto r = close(kStrongPassword);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::too_many_attempts);
  EXPECT_EQ(w.hasher.verifies, verifies) << "no hash spent";
  EXPECT_EQ(w.users.users.size(), 1u);
}

class CloseAccountWithSecondFactorTest : public CloseAccountTest {
 protected:
  std::vector<std::string> codes;
  void SetUp() override {
    CloseAccountTest::SetUp();
    // Enrolled directly: the codes are what matters here.
    w.mfa.states[ann.id].enabled = true;
    w.users.users[ann.id].mfa_enabled = true;
    codes = {"k7pq-4mzx-9tbw"};
    const std::string canonical = recovery_codes::canonical(codes[0]);
    ASSERT_FALSE(canonical.empty());
    w.mfa.replace_recovery_codes(ann.id, {w.hasher.hash(canonical)});
  }
};

TEST_F(CloseAccountWithSecondFactorTest, NoCodeIsMfaRequiredAndNeitherAFailureNorASuccess) {
  w.auth().login("ann@example.com", "wrong password!", client);  // one failure already
  auto r = close(kStrongPassword);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::mfa_required);
  EXPECT_EQ(r.error().methods, (std::vector<std::string>{"totp", "recovery_code"}));
  EXPECT_TRUE(r.error().mfa_token.empty());
  EXPECT_EQ(w.throttle.read("ann@example.com", client.ip).pair.failures, 1u)
      << "the reserved attempt went back";
}

TEST_F(CloseAccountWithSecondFactorTest, AWrongCodeIsAFailedLoginAndTheRightOneCloses) {
  auto wrong = close(kStrongPassword, "zzzz-zzzz-zzzz");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, AuthErrc::invalid_mfa_code);
  EXPECT_EQ(w.throttle.read("ann@example.com", client.ip).pair.failures, 1u);
  ASSERT_TRUE(close(kStrongPassword, codes[0]).ok());
  EXPECT_TRUE(w.users.users.empty());
  EXPECT_TRUE(w.mfa.codes.empty() && w.mfa.states.empty());
}

TEST_F(CloseAccountTest, APasswordChangedMeanwhileRefusesTheClosing) {
  // Another worker commits a password change after this request checked
  // the password and before its transaction: it comes after that change.
  w.transactions.before_next = [&] { w.users.users[ann.id].password_hash = "h1:changed"; };
  auto r = close(kStrongPassword);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_credentials);
  EXPECT_EQ(w.users.users.size(), 1u);
  EXPECT_EQ(w.throttle.read("ann@example.com", client.ip).pair.failures, 1u)
      << "a wrong password by then: a failed login";
}

TEST_F(CloseAccountTest, ASessionEndedMeanwhileRefusesTheClosing) {
  const Authenticated me = who();
  w.transactions.before_next = [&] { w.sessions.revoke(me.session.id, w.clock.now()); };
  auto r = w.auth().close_account(me, kStrongPassword, std::nullopt, client);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_token);
  EXPECT_EQ(w.users.users.size(), 1u);
  EXPECT_EQ(w.throttle.read("ann@example.com", client.ip).pair.failures, 0u)
      << "an ended session counts for nothing: the attempt went back";
}

TEST_F(CloseAccountTest, AnAccountClosedMeanwhileIsInvalidToken) {
  const Authenticated me = who();
  w.transactions.before_next = [&] { w.users.erase_account(ann.id, ann.email); };
  auto r = w.auth().close_account(me, kStrongPassword, std::nullopt, client);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_token);
  EXPECT_TRUE(w.outbox.rows.empty()) << "no second notice";
  EXPECT_TRUE(w.throttle.rows.empty())
      << "the email's counters went with the account and are not written again";
}

TEST_F(CloseAccountTest, TheRightPasswordClearsNothingBeforeTheClosingCommits) {
  w.auth().login("ann@example.com", "wrong password!", client);
  // The closing is refused under the lock (the session ended meanwhile):
  // the right password alone cleared nothing.
  const Authenticated me = who();
  w.transactions.before_next = [&] { w.sessions.revoke(me.session.id, w.clock.now()); };
  ASSERT_FALSE(w.auth().close_account(me, kStrongPassword, std::nullopt, client).ok());
  EXPECT_EQ(w.throttle.read("ann@example.com", client.ip).pair.failures, 1u);
}

TEST_F(CloseAccountTest, ALostCommitThatLandedIsAClosing) {
  w.transactions.lose_next_commit = LostCommit::applied;
  ASSERT_TRUE(close(kStrongPassword).ok());
  EXPECT_TRUE(w.users.users.empty());
}

TEST_F(CloseAccountTest, ALostCommitThatDidNotLandIsAPlain503AndTheAccountStays) {
  w.transactions.lose_next_commit = LostCommit::rolled_back;
  testing::expect_plain_unavailable([&] { close(kStrongPassword); });
  EXPECT_EQ(w.users.users.size(), 1u);
  EXPECT_TRUE(w.auth().authenticate(grant.access_token).ok());
}

TEST_F(CloseAccountTest, ALostCommitWithTheDatabaseStillAwayIsUnknown) {
  w.transactions.lose_next_commit = LostCommit::applied;
  w.transactions.down_after_lost_commit = true;
  EXPECT_THROW(close(kStrongPassword), StoreCommitUnknown);
}

TEST_F(CloseAccountTest, ALoginRacingTheClosingOpensNoSession) {
  // The login checked the password before the account went; its session
  // would come after: it is refused, not opened for an account that is gone.
  w.users.after_find = [&] {
    w.users.after_find = nullptr;
    w.users.erase_account(ann.id, ann.email);
  };
  auto r = w.auth().login("ann@example.com", kStrongPassword, client);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_credentials);
  EXPECT_TRUE(w.sessions.sessions.empty());
  EXPECT_TRUE(w.throttle.rows.empty()) << "nothing written for the email afterwards";
}

TEST_F(CloseAccountTest, ALoginRecordsWhenItHappened) {
  w.clock.advance(60);
  ASSERT_TRUE(w.auth().login("ann@example.com", kStrongPassword, client).ok());
  EXPECT_EQ(w.users.users[ann.id].last_login_at, w.clock.now());
}

// A closing whose COMMIT lost to a concurrent one (a failed certification
// on a cluster, run again whole): it decides afresh on what it re-reads.
TEST_F(CloseAccountTest, AClosingRunAgainClosesOnceWithOneNotice) {
  w.transactions.conflicts_at_commit = 1;
  ASSERT_TRUE(close(kStrongPassword).ok());
  EXPECT_EQ(w.transactions.conflicts, 1);
  EXPECT_TRUE(w.users.users.empty());
  ASSERT_EQ(w.outbox.rows.size(), 1u);
  EXPECT_EQ(w.outbox.rows.begin()->second.mail.kind, MailKind::account_closed);
}

// Two closings of one account through two nodes: the loser finds no
// account on its second run, and its session went with it. One notice.
TEST_F(CloseAccountTest, AClosingThatLostToAnotherClosingEndsAsAnEndedSession) {
  const Authenticated other =
      w.auth()
          .authenticate(
              w.auth().login("ann@example.com", kStrongPassword, client).value().access_token)
          .value();
  w.transactions.conflicts_at_commit = 1;
  w.transactions.conflict_winner = [&] {
    ASSERT_TRUE(w.auth().close_account(other, kStrongPassword, std::nullopt, client).ok());
  };
  auto r = close(kStrongPassword);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_token);
  EXPECT_TRUE(w.users.users.empty());
  ASSERT_EQ(w.outbox.rows.size(), 1u) << "the winner's notice only";
}

}  // namespace
}  // namespace authd
