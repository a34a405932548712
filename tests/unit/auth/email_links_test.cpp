// Email verification, resend/forgot and password reset through the service
// (over in-memory fakes), and the mailer's half (MailRequestService).
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "auth/link_token.h"
#include "auth/mail_request_service.h"
#include "auth/sealed.h"
#include "auth/totp.h"
#include "fakes/captured_stderr.h"
#include "fakes/lost_commit.h"
#include "fakes/service_fixture.h"
#include "ports/store_errors.h"

namespace authd {
namespace {

using testing::expect_plain_unavailable;
using testing::kOtherStrongPassword;
using testing::kStrongPassword;
using testing::ServiceWorld;
using Outcome = MailRequestService::Outcome;

const ClientInfo kClient{"192.0.2.7", "test"};

class EmailLinksTest : public ::testing::Test {
 protected:
  ServiceWorld w;
  MailRequestService requests{MailRequestDeps{w.users, w.email_tokens, w.outbox, w.mail_requests,
                                              w.transactions, w.clock, w.random},
                              w.policy.mail};

  User registered(const std::string& email = "ann@example.com") {
    auto r = w.auth().register_user(email, kStrongPassword, kClient);
    EXPECT_TRUE(r.ok());
    return r.value();
  }
  // The token in the newest queued message to `email` whose link goes to `path`.
  std::string token_in_last_message(const std::string& email, const std::string& path) {
    std::string token;
    for (const auto& [id, row] : w.outbox.rows) {
      if (row.mail.recipient != email) continue;
      std::smatch m;
      const std::regex link(w.policy.mail.public_base_url + path + "#token=([A-Za-z0-9_-]{43})");
      if (std::regex_search(row.mail.message, m, link)) token = m[1];
    }
    return token;
  }
  std::size_t messages_to(const std::string& email) {
    std::size_t n = 0;
    for (const auto& [id, row] : w.outbox.rows)
      n += row.mail.recipient == email ? 1 : 0;
    return n;
  }
  void drain_requests() {
    while (requests.fulfil_next() != Outcome::none_pending) {
    }
  }
  // Asks for a reset link as the user would and returns its token.
  std::string mailed_reset_token(const User& user) {
    w.auth().request_password_reset(user.email, kClient);
    drain_requests();
    return token_in_last_message(user.email, "/reset-password");
  }
};

TEST_F(EmailLinksTest, RegistrationQueuesOneVerificationMessageInItsCommit) {
  const int commits = w.transactions.commits;
  const User user = registered();
  EXPECT_EQ(w.transactions.commits, commits + 1) << "user, token and message: one commit";
  ASSERT_EQ(w.outbox.rows.size(), 1u);
  const auto& row = w.outbox.rows.begin()->second;
  EXPECT_EQ(row.mail.user_id, user.id);
  EXPECT_EQ(row.mail.kind, MailKind::verify_email);
  EXPECT_FALSE(row.mail.counts_toward_cap) << "the registration's message is not capped";
  EXPECT_EQ(row.mail.expires_at, w.clock.now() + 86400);
  const std::string token = token_in_last_message("ann@example.com", "/verify-email");
  ASSERT_FALSE(token.empty()) << row.mail.message;
  // Stored hashed, never in clear.
  ASSERT_EQ(w.email_tokens.tokens.size(), 1u);
  EXPECT_EQ(w.email_tokens.tokens.begin()->first, link_token_digest(token));
  EXPECT_EQ(w.email_tokens.tokens.begin()->second.expires_at, w.clock.now() + 86400);
}

TEST_F(EmailLinksTest, ATakenEmailQueuesNothing) {
  registered();
  EXPECT_FALSE(w.auth().register_user("ann@example.com", kOtherStrongPassword, kClient).ok());
  EXPECT_EQ(w.outbox.rows.size(), 1u);
  EXPECT_EQ(w.email_tokens.tokens.size(), 1u);
}

TEST_F(EmailLinksTest, NoAccountWithoutItsMessage) {
  // The outbox write fails inside registration's transaction: the account
  // and its token are rolled back with it.
  w.outbox.unavailable = true;
  EXPECT_THROW(w.auth().register_user("ann@example.com", kStrongPassword, kClient),
               StoreUnavailable);
  EXPECT_TRUE(w.users.users.empty());
  EXPECT_TRUE(w.email_tokens.tokens.empty());
  EXPECT_TRUE(w.outbox.rows.empty());
  w.outbox.unavailable = false;
  EXPECT_TRUE(w.auth().register_user("ann@example.com", kStrongPassword, kClient).ok());
}

TEST_F(EmailLinksTest, VerifyMarksTheAddressAndSpendsTheToken) {
  const User user = registered();
  const std::string token = token_in_last_message(user.email, "/verify-email");
  w.clock.advance(30);
  auto verified = w.auth().verify_email(token, kClient);
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified.value().id, user.id);
  EXPECT_EQ(verified.value().email_verified_at, w.clock.now());
  EXPECT_EQ(w.users.users[user.id].email_verified_at, w.clock.now());
  EXPECT_TRUE(w.email_tokens.tokens.empty());

  auto again = w.auth().verify_email(token, kClient);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, AuthErrc::invalid_token);
}

TEST_F(EmailLinksTest, AnExpiredOrForeignTokenIsRefused) {
  const User user = registered();
  const std::string token = token_in_last_message(user.email, "/verify-email");
  for (std::string bad : {std::string(43, 'A'), std::string("short"), token + "x"}) {
    auto r = w.auth().verify_email(bad, kClient);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, AuthErrc::invalid_token);
  }
  w.clock.advance(86400);
  auto late = w.auth().verify_email(token, kClient);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, AuthErrc::invalid_token);
  EXPECT_FALSE(w.users.users[user.id].email_verified_at);
}

TEST_F(EmailLinksTest, ResendAndForgotOnlyQueueARequestWhateverTheEmail) {
  registered();
  const auto outbox_before = w.outbox.rows.size();
  const int users_reads_before = w.hasher.verifies;
  w.auth().request_verification_email(" Ann@Example.com ", kClient);
  w.auth().request_password_reset("nobody@example.com", kClient);
  w.auth().request_password_reset(std::string(255, 'a'), kClient);  // cannot be an account's
  w.auth().request_verification_email("", kClient);
  EXPECT_EQ(w.mail_requests.adds, 2);
  ASSERT_EQ(w.mail_requests.queue.size(), 2u);
  EXPECT_EQ(w.mail_requests.queue[0].email, "ann@example.com");
  EXPECT_EQ(w.mail_requests.queue[0].kind, LinkPurpose::verify_email);
  EXPECT_EQ(w.mail_requests.queue[1].email, "nobody@example.com");
  EXPECT_EQ(w.mail_requests.queue[1].kind, LinkPurpose::reset_password);
  EXPECT_EQ(w.outbox.rows.size(), outbox_before) << "no message is written by the request";
  EXPECT_EQ(w.hasher.verifies, users_reads_before);
}

TEST_F(EmailLinksTest, TheMailerTurnsRequestsIntoMessagesOrNothing) {
  const User ann = registered();
  registered("bob@example.com");
  const User cid = registered("cid@example.com");
  w.users.users[cid.id].disabled_at = w.clock.now();

  w.auth().request_password_reset("ann@example.com", kClient);
  w.auth().request_password_reset("nobody@example.com", kClient);
  w.auth().request_password_reset("cid@example.com", kClient);
  EXPECT_EQ(requests.fulfil_next(), Outcome::queued);
  EXPECT_EQ(requests.fulfil_next(), Outcome::no_account);
  EXPECT_EQ(requests.fulfil_next(), Outcome::disabled);
  EXPECT_EQ(requests.fulfil_next(), Outcome::none_pending);
  EXPECT_FALSE(token_in_last_message("ann@example.com", "/reset-password").empty());
  EXPECT_EQ(messages_to("cid@example.com"), 1u);

  // Verified accounts get no verification message.
  ASSERT_TRUE(
      w.auth().verify_email(token_in_last_message("bob@example.com", "/verify-email"), kClient));
  w.auth().request_verification_email("bob@example.com", kClient);
  EXPECT_EQ(requests.fulfil_next(), Outcome::already_verified);
  EXPECT_EQ(messages_to("bob@example.com"), 1u);
  (void)ann;
}

TEST_F(EmailLinksTest, ANewLinkSupersedesTheOlderOfItsKindOnly) {
  const User user = registered();
  const std::string first = token_in_last_message(user.email, "/verify-email");
  const std::string reset = mailed_reset_token(user);
  w.auth().request_verification_email(user.email, kClient);
  drain_requests();
  const std::string second = token_in_last_message(user.email, "/verify-email");
  ASSERT_NE(first, second);
  EXPECT_FALSE(w.auth().verify_email(first, kClient).ok());
  EXPECT_TRUE(w.auth().verify_email(second, kClient).ok());
  // The reset link still works: another purpose.
  EXPECT_TRUE(w.auth().reset_password(reset, kOtherStrongPassword, kClient).ok());
}

TEST_F(EmailLinksTest, ResendAndForgotTogetherAreCappedPerRollingHour) {
  const User user = registered();
  // One at a time: a request still pending takes no repeat (finding 13).
  std::vector<Outcome> outcomes;
  for (int i = 0; i < 7; ++i) {
    if (i % 2) {
      w.auth().request_verification_email(user.email, kClient);
    } else {
      w.auth().request_password_reset(user.email, kClient);
    }
    outcomes.push_back(requests.fulfil_next());
  }
  EXPECT_EQ(requests.fulfil_next(), Outcome::none_pending);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), Outcome::queued), 5);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), Outcome::capped), 2);
  EXPECT_EQ(messages_to(user.email), 6u) << "5 plus the registration's, which is not counted";

  // Rolling: an hour after the first ones, room again.
  w.clock.advance(3599);
  w.auth().request_password_reset(user.email, kClient);
  EXPECT_EQ(requests.fulfil_next(), Outcome::capped);
  w.clock.advance(1);
  w.auth().request_password_reset(user.email, kClient);
  EXPECT_EQ(requests.fulfil_next(), Outcome::queued);
}

TEST_F(EmailLinksTest, ResetSetsThePasswordEndsSessionsVerifiesAndSpends) {
  const User user = registered();
  auto a = w.auth().login(user.email, kStrongPassword, kClient);
  auto b = w.auth().login(user.email, kStrongPassword, kClient);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string token = mailed_reset_token(user);
  ASSERT_FALSE(token.empty());

  w.clock.advance(60);
  auto reset = w.auth().reset_password(token, kOtherStrongPassword, kClient);
  ASSERT_TRUE(reset.ok());
  EXPECT_EQ(reset.value().user.id, user.id);
  EXPECT_EQ(reset.value().user.email_verified_at, w.clock.now()) << "the link proved the mailbox";
  EXPECT_EQ(reset.value().user.password_changed_at, w.clock.now());
  EXPECT_FALSE(w.auth().authenticate(a.value().access_token).ok());
  EXPECT_FALSE(w.auth().authenticate(b.value().access_token).ok());
  EXPECT_TRUE(w.auth().authenticate(reset.value().access_token).ok());
  EXPECT_FALSE(w.auth().login(user.email, kStrongPassword, kClient).ok());
  EXPECT_TRUE(w.auth().login(user.email, kOtherStrongPassword, kClient).ok());

  auto again = w.auth().reset_password(token, "yet another Harbor-93-lantern", kClient);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, AuthErrc::invalid_token);
  EXPECT_TRUE(w.email_tokens.tokens.empty()) << "no link of any kind is left";
}

TEST_F(EmailLinksTest, APasswordChangeVoidsPendingResetLinksOnly) {
  const User user = registered();
  const std::string verify = token_in_last_message(user.email, "/verify-email");
  ASSERT_FALSE(verify.empty());
  const std::string reset = mailed_reset_token(user);
  ASSERT_FALSE(reset.empty());

  ASSERT_TRUE(
      w.auth()
          .change_password(user.email, kStrongPassword, kOtherStrongPassword, std::nullopt, kClient)
          .ok());
  // The link mailed before the change must not set a password over it.
  auto stale = w.auth().reset_password(reset, "yet another Harbor-93-lantern", kClient);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, AuthErrc::invalid_token);
  EXPECT_TRUE(w.auth().login(user.email, kOtherStrongPassword, kClient).ok());
  // Verifying the address is another matter: that link still works.
  EXPECT_TRUE(w.auth().verify_email(verify, kClient).ok());
}

TEST_F(EmailLinksTest, ResetJudgesTheTokenBeforeThePasswordAndAWeakOneKeepsIt) {
  const User user = registered();
  auto r = w.auth().reset_password(std::string(43, 'Z'), "password", kClient);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_token);

  const std::string token = mailed_reset_token(user);
  for (std::string weak : {std::string("password"), std::string("ann@example.com"),
                           std::string("violet-Harbor\0-92", 17)}) {
    auto refused = w.auth().reset_password(token, weak, kClient);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, AuthErrc::weak_password);
  }
  EXPECT_TRUE(w.auth().reset_password(token, kOtherStrongPassword, kClient).ok());
}

TEST_F(EmailLinksTest, ResetTokensExpireAfterTheirShortLifetime) {
  const User user = registered();
  const std::string token = mailed_reset_token(user);
  w.clock.advance(1800);
  auto r = w.auth().reset_password(token, kOtherStrongPassword, kClient);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_token);
}

// One answer for every refused link, but the audit line says which way it
// failed (for whoever reads why a user's link did not work), and never
// carries the link itself: reset and verification links alike.
TEST_F(EmailLinksTest, ARefusedLinkIsAuditedWithItsReasonAndWithoutTheToken) {
  const User user = registered();
  const std::string verify = token_in_last_message(user.email, "/verify-email");
  const std::string reset = mailed_reset_token(user);
  ASSERT_FALSE(verify.empty() || reset.empty());
  auto reason_of = [&](std::string_view event, const std::string& link) {
    const std::string line = testing::captured_stderr([&] {
      const bool ok = event == "password_reset"
                          ? w.auth().reset_password(link, kOtherStrongPassword, kClient).ok()
                          : w.auth().verify_email(link, kClient).ok();
      EXPECT_FALSE(ok) << event;
    });
    EXPECT_EQ(line.find(link), std::string::npos) << line;
    std::smatch m;
    const std::regex reason("\"event\":\"" + std::string(event) +
                            "\".*\"outcome\":\"invalid_token\",\"reason\":\"([a-z_]+)\"");
    return std::regex_search(line, m, reason) ? m[1].str() : line;
  };
  for (std::string_view event : {"password_reset", "email_verification"}) {
    EXPECT_EQ(reason_of(event, "short"), "malformed") << event;
    EXPECT_EQ(reason_of(event, std::string(43, 'Z')), "unknown") << event;
  }
  EXPECT_EQ(reason_of("password_reset", verify), "unknown") << "a link of the other purpose";
  EXPECT_EQ(reason_of("email_verification", reset), "unknown") << "a link of the other purpose";
  w.clock.advance(std::max(w.policy.mail.reset_token_ttl_s, w.policy.mail.verify_token_ttl_s));
  EXPECT_EQ(reason_of("password_reset", reset), "expired");
  EXPECT_EQ(reason_of("email_verification", verify), "expired");
}

TEST_F(EmailLinksTest, TokensDoNotCrossPurposes) {
  const User user = registered();
  const std::string verify = token_in_last_message(user.email, "/verify-email");
  auto r = w.auth().reset_password(verify, kOtherStrongPassword, kClient);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_token);
  const std::string reset = mailed_reset_token(user);
  EXPECT_FALSE(w.auth().verify_email(reset, kClient).ok());
  EXPECT_TRUE(w.auth().verify_email(verify, kClient).ok());
}

TEST_F(EmailLinksTest, ADisabledAccountsResetLinkIsVoid) {
  const User user = registered();
  const std::string token = mailed_reset_token(user);
  w.users.users[user.id].disabled_at = w.clock.now();
  auto r = w.auth().reset_password(token, kOtherStrongPassword, kClient);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_token);
  EXPECT_EQ(w.users.users[user.id].password_hash.find(kOtherStrongPassword), std::string::npos);
}

TEST(RequireVerifiedEmail, LoginIs403OnlyAfterThePasswordCheckedOut) {
  ServicePolicy policy;
  policy.mail.require_verified_email = true;
  ServiceWorld w(policy);
  auto user = w.auth().register_user("ann@example.com", kStrongPassword, kClient);
  ASSERT_TRUE(user.ok());
  auto wrong = w.auth().login("ann@example.com", kOtherStrongPassword, kClient);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, AuthErrc::invalid_credentials);
  auto right = w.auth().login("ann@example.com", kStrongPassword, kClient);
  ASSERT_FALSE(right.ok());
  EXPECT_EQ(right.error().code, AuthErrc::email_not_verified);
  EXPECT_TRUE(w.sessions.sessions.empty()) << "no session for an unverified account";

  w.users.users[user.value().id].email_verified_at = w.clock.now();
  EXPECT_TRUE(w.auth().login("ann@example.com", kStrongPassword, kClient).ok());
}

// Finding 1: a password change opened a session (with a password the
// squatter chose) where login answered 403 email_not_verified.
TEST(RequireVerifiedEmail, Finding01PasswordChangeIs403ForAnUnverifiedAccount) {
  ServicePolicy policy;
  policy.mail.require_verified_email = true;
  ServiceWorld w(policy);
  auto user = w.auth().register_user("ann@example.com", kStrongPassword, kClient);
  ASSERT_TRUE(user.ok());
  const std::string hash_before = w.users.users[user.value().id].password_hash;
  auto wrong = w.auth().change_password("ann@example.com", kOtherStrongPassword, kStrongPassword,
                                        std::nullopt, kClient);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, AuthErrc::invalid_credentials) << "said only after the password";
  auto right = w.auth().change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                                        std::nullopt, kClient);
  ASSERT_FALSE(right.ok());
  EXPECT_EQ(right.error().code, AuthErrc::email_not_verified);
  EXPECT_TRUE(w.sessions.sessions.empty()) << "no session for an unverified account";
  EXPECT_EQ(w.users.users[user.value().id].password_hash, hash_before) << "nothing changed";

  w.users.users[user.value().id].email_verified_at = w.clock.now();
  EXPECT_TRUE(w.auth()
                  .change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                                   std::nullopt, kClient)
                  .ok());
}

// Finding 1, the second step: an mfa_token issued while the rule was off
// (or before an operator turned it on) opens no session for an unverified
// address once it is on.
TEST(RequireVerifiedEmail, Finding01TheSecondStepIs403ForAnUnverifiedAccount) {
  ServiceWorld w;
  auto user = w.auth().register_user("ann@example.com", kStrongPassword, kClient);
  ASSERT_TRUE(user.ok());
  const Uuid id = user.value().id;
  const std::string secret(20, 's');
  w.mfa.states[id].enabled = true;
  w.mfa.states[id].secret_sealed = seal(*w.policy.mfa_key, secret, w.random, id.as_bytes());
  w.users.users[id].mfa_enabled = true;
  auto first = w.auth().login("ann@example.com", kStrongPassword, kClient);
  ASSERT_FALSE(first.ok());
  ASSERT_EQ(first.error().code, AuthErrc::mfa_required);

  w.policy.mail.require_verified_email = true;
  w.rebuild();
  w.clock.advance(30);
  auto second = w.auth().mfa_verify(first.error().mfa_token,
                                    totp::code_at(secret, totp::step_at(w.clock.now())),
                                    std::nullopt, kClient);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, AuthErrc::email_not_verified);
  EXPECT_TRUE(w.sessions.sessions.empty());
}

TEST(RequireVerifiedEmail, OffByDefault) {
  ServiceWorld w;
  ASSERT_TRUE(w.auth().register_user("ann@example.com", kStrongPassword, kClient).ok());
  EXPECT_TRUE(w.auth().login("ann@example.com", kStrongPassword, kClient).ok());
}

// A COMMIT whose answer was lost: the use case asks the database again and
// answers what happened, not "maybe" (auth/commit_outcome.h).
using LostCommit = testing::FakeTransactions::LostCommit;

TEST_F(EmailLinksTest, AResetWhoseCommitLandedIsGranted) {
  const User user = registered();
  const std::string token = mailed_reset_token(user);
  w.transactions.lose_next_commit = LostCommit::applied;
  auto reset = w.auth().reset_password(token, kOtherStrongPassword, kClient);
  ASSERT_TRUE(reset.ok());
  EXPECT_TRUE(w.auth().authenticate(reset.value().access_token).ok());
  EXPECT_TRUE(w.auth().login(user.email, kOtherStrongPassword, kClient).ok());
}

TEST_F(EmailLinksTest, AResetWhoseCommitDidNotLandIsAPlain503AndKeepsTheLink) {
  const User user = registered();
  const std::string token = mailed_reset_token(user);
  w.transactions.lose_next_commit = LostCommit::rolled_back;
  expect_plain_unavailable([&] { w.auth().reset_password(token, kOtherStrongPassword, kClient); });
  EXPECT_TRUE(w.auth().login(user.email, kStrongPassword, kClient).ok());
  EXPECT_TRUE(w.auth().reset_password(token, kOtherStrongPassword, kClient).ok());
}

TEST_F(EmailLinksTest, AResetWithTheDatabaseStillAwayIsUnknown) {
  const User user = registered();
  const std::string token = mailed_reset_token(user);
  w.transactions.lose_next_commit = LostCommit::applied;
  w.transactions.down_after_lost_commit = true;
  EXPECT_THROW(w.auth().reset_password(token, kOtherStrongPassword, kClient), StoreCommitUnknown);
}

TEST_F(EmailLinksTest, AVerificationWhoseCommitLandedIsDone) {
  const User user = registered();
  const std::string token = token_in_last_message(user.email, "/verify-email");
  w.transactions.lose_next_commit = LostCommit::applied;
  auto verified = w.auth().verify_email(token, kClient);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(w.users.find_by_id(user.id)->email_verified_at);
}

TEST_F(EmailLinksTest, AVerificationWhoseCommitDidNotLandIsAPlain503AndKeepsTheLink) {
  const User user = registered();
  const std::string token = token_in_last_message(user.email, "/verify-email");
  w.transactions.lose_next_commit = LostCommit::rolled_back;
  expect_plain_unavailable([&] { w.auth().verify_email(token, kClient); });
  EXPECT_FALSE(w.users.find_by_id(user.id)->email_verified_at);
  EXPECT_TRUE(w.auth().verify_email(token, kClient).ok());
}

// Two uses of one link through two cluster nodes: both runs lock the token
// (row locks are node-local), one commits, the other fails certification and
// runs again (FakeTransactions::conflicts_at_commit). The second run finds
// the token spent: a link works once, whichever node each use went through.
TEST_F(EmailLinksTest, AResetThatLostToAnotherUseOfItsLinkWritesNothing) {
  const User user = registered();
  const std::string token = mailed_reset_token(user);
  std::string winner_password_hash;
  w.transactions.conflicts_at_commit = 1;
  w.transactions.conflict_winner = [&] {
    ASSERT_TRUE(w.auth().reset_password(token, kOtherStrongPassword, kClient).ok());
    winner_password_hash = w.users.users.at(user.id).password_hash;
  };
  const std::size_t sessions_before = w.sessions.sessions.size();
  auto r = w.auth().reset_password(token, "a-third-Password-entirely-87", kClient);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_token);
  EXPECT_EQ(w.users.users.at(user.id).password_hash, winner_password_hash);
  EXPECT_EQ(w.sessions.sessions.size(), sessions_before + 1) << "the winner's session only";
}

TEST_F(EmailLinksTest, AVerificationThatLostToAnotherUseOfItsLinkIsRefused) {
  registered();
  const std::string token = token_in_last_message("ann@example.com", "/verify-email");
  w.transactions.conflicts_at_commit = 1;
  w.transactions.conflict_winner = [&] { ASSERT_TRUE(w.auth().verify_email(token, kClient).ok()); };
  auto r = w.auth().verify_email(token, kClient);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_token);
}

}  // namespace
}  // namespace authd
