#include "auth/operator_service.h"

#include <gtest/gtest.h>

#include "auth/link_token.h"
#include "auth/sealed.h"
#include "fakes/captured_stderr.h"
#include "fakes/service_fixture.h"

namespace authd {
namespace {

using testing::kStrongPassword;

class OperatorServiceTest : public ::testing::Test {
 protected:
  testing::ServiceWorld w;
  OperatorService ops{w.users,        w.sessions,     w.throttle, w.mfa,
                      w.email_tokens, w.transactions, w.clock};
  const ClientInfo client{"203.0.113.7", "agent"};
  void SetUp() override {
    ASSERT_TRUE(w.auth().register_user("ann@example.com", kStrongPassword, client).ok());
  }
};

TEST_F(OperatorServiceTest, DisableEndsEverySessionAndEnableDoesNotBringThemBack) {
  auto g = w.auth().login("ann@example.com", kStrongPassword, client).value();
  auto r = ops.disable_user(" ANN@example.com");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().sessions_ended, 1);
  EXPECT_FALSE(w.auth().authenticate(g.access_token).ok());
  EXPECT_EQ(w.auth().login("ann@example.com", kStrongPassword, client).error().code,
            AuthErrc::account_disabled);
  ASSERT_TRUE(ops.enable_user("ann@example.com").ok());
  EXPECT_FALSE(w.auth().authenticate(g.access_token).ok());
  EXPECT_TRUE(w.auth().login("ann@example.com", kStrongPassword, client).ok());
}

// The admin API finds the account by id, then disables it: an account
// closed in between is a 404 with a "not_found" audit line, never an "ok"
// line for a write that touched nothing.
TEST_F(OperatorServiceTest, AnAccountClosedAfterItWasFoundIsNotFoundNotDisabled) {
  const User ann = *w.users.find_by_email("ann@example.com");
  w.users.users.erase(ann.id);  // closed meanwhile
  const Actor admin{"admin", "backoffice"};
  for (bool disable : {true, false}) {
    std::optional<AuthErrc> code;
    const std::string log = testing::captured_stderr([&] {
      auto r = disable ? ops.disable(ann, admin) : ops.enable(ann, admin);
      if (!r.ok()) code = r.error().code;
    });
    EXPECT_EQ(code, AuthErrc::not_found);
    EXPECT_NE(log.find(R"("outcome":"not_found")"), std::string::npos) << log;
    EXPECT_EQ(log.find(R"("outcome":"ok")"), std::string::npos) << log;
  }
}

// Finding 14: a reset link and an mfa_token issued before the account was
// disabled worked again once it was enabled.
TEST_F(OperatorServiceTest, Finding14DisablingVoidsResetLinksAndMfaTokensForGood) {
  const User ann = *w.users.find_by_email("ann@example.com");
  const std::string link = new_link_token(w.random);
  w.email_tokens.insert({link_token_digest(link), ann.id, LinkPurpose::reset_password,
                         w.clock.now(), w.clock.now() + 1800});
  // TOTP on, and a login waiting for its second step.
  w.mfa.states[ann.id].enabled = true;
  w.mfa.states[ann.id].secret_sealed =
      seal(*w.policy.mfa_key, std::string(20, 's'), w.random, ann.id.as_bytes());
  w.users.users[ann.id].mfa_enabled = true;
  auto first = w.auth().login("ann@example.com", kStrongPassword, client);
  ASSERT_EQ(first.error().code, AuthErrc::mfa_required);
  const std::string mfa_token = first.error().mfa_token;

  ASSERT_TRUE(ops.disable_user("ann@example.com").ok());
  ASSERT_TRUE(ops.enable_user("ann@example.com").ok());

  auto reset = w.auth().reset_password(link, "correct horse battery staple", client);
  ASSERT_FALSE(reset.ok());
  EXPECT_EQ(reset.error().code, AuthErrc::invalid_token)
      << "the reset link died with the disabling";
  auto second = w.auth().mfa_verify(mfa_token, std::string("000000"), std::nullopt, client);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, AuthErrc::invalid_token) << "the mfa_token died with it too";
}

TEST_F(OperatorServiceTest, UnknownEmailChangesNothing) {
  EXPECT_EQ(ops.disable_user("bob@example.com").error().code, AuthErrc::not_found);
  EXPECT_EQ(ops.enable_user("bob@example.com").error().code, AuthErrc::not_found);
  EXPECT_EQ(ops.revoke_user_sessions("bob@example.com").error().code, AuthErrc::not_found);
  EXPECT_EQ(ops.unlock_user("bob@example.com").error().code, AuthErrc::not_found);
}

TEST_F(OperatorServiceTest, UnlockClearsTheCounters) {
  for (int i = 0; i < 6; ++i)
    w.auth().login("ann@example.com", "wrong password!", client);
  EXPECT_EQ(w.auth().login("ann@example.com", kStrongPassword, client).error().code,
            AuthErrc::too_many_attempts);
  auto r = ops.unlock_user("ann@example.com");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().counters_cleared, 2);
  EXPECT_TRUE(w.auth().login("ann@example.com", kStrongPassword, client).ok());
}

TEST_F(OperatorServiceTest, RevokeSessions) {
  auto a = w.auth().login("ann@example.com", kStrongPassword, client).value();
  auto b = w.auth().login("ann@example.com", kStrongPassword, client).value();
  EXPECT_EQ(ops.revoke_user_sessions("ann@example.com").value().sessions_ended, 2);
  EXPECT_FALSE(w.auth().authenticate(a.access_token).ok());
  EXPECT_FALSE(w.auth().authenticate(b.access_token).ok());
}

}  // namespace
}  // namespace authd

namespace authd {
namespace {

TEST(OperatorPasskeyReset, RemovesEveryPasskeyOfTheAccountWithANoticeAndKeepsSessions) {
  testing::ServiceWorld w;
  OperatorService ops{w.users,        w.sessions,     w.throttle, w.mfa,
                      w.email_tokens, w.transactions, w.clock};
  const ClientInfo client{"203.0.113.7", "agent"};
  const User ann =
      w.auth().register_user("ann@example.com", testing::kStrongPassword, client).value();
  const User bob =
      w.auth().register_user("bob@example.com", testing::kStrongPassword, client).value();
  auto g = w.auth().login("ann@example.com", testing::kStrongPassword, client).value();
  for (int i = 0; i < 2; ++i) {
    Passkey p;
    p.id = Uuid{};
    p.id.bytes[0] = static_cast<std::uint8_t>(i + 1);
    p.user_id = ann.id;
    p.credential_id = "ann-" + std::to_string(i);
    ASSERT_EQ(w.passkeys.add(p, 10), PasskeyStore::AddResult::added);
  }
  Passkey bobs;
  bobs.id.bytes[0] = 9;
  bobs.user_id = bob.id;
  bobs.credential_id = "bob";
  ASSERT_EQ(w.passkeys.add(bobs, 10), PasskeyStore::AddResult::added);
  const auto mails_before = w.outbox.rows.size();

  const PasskeyResetDeps deps{w.passkeys, w.outbox, w.random, w.policy.mail};
  EXPECT_EQ(ops.reset_passkeys("nobody@example.com", deps).error().code, AuthErrc::not_found);
  auto r = ops.reset_passkeys(" Ann@Example.com", deps);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().passkeys_removed, 2);
  EXPECT_EQ(w.passkeys.count(ann.id), 0u);
  EXPECT_EQ(w.passkeys.count(bob.id), 1u);
  ASSERT_EQ(w.outbox.rows.size(), mails_before + 1);
  EXPECT_EQ(w.outbox.rows.rbegin()->second.mail.kind, MailKind::passkeys_reset);
  EXPECT_EQ(w.outbox.rows.rbegin()->second.mail.recipient, "ann@example.com");
  EXPECT_TRUE(w.auth().authenticate(g.access_token).ok()) << "sessions stay";
  // Nothing left: nothing removed, no notice.
  EXPECT_EQ(ops.reset_passkeys("ann@example.com", deps).value().passkeys_removed, 0);
  EXPECT_EQ(w.outbox.rows.size(), mails_before + 1);
}

}  // namespace
}  // namespace authd
