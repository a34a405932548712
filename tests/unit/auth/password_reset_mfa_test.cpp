// A password reset while the second factor is on: the password is set and
// every session ends, but the answer is 403 mfa_required with an mfa_token
// (API.md): the emailed link alone never gets past the factor.
#include <gtest/gtest.h>
#include <liboath/oath.h>

#include <regex>

#include "auth/mail_request_service.h"
#include "auth/totp.h"
#include "fakes/service_fixture.h"

namespace authd {
namespace {

using testing::kOtherStrongPassword;
using testing::kStrongPassword;

const ClientInfo kClient{"203.0.113.8", "agent"};

class PasswordResetWithSecondFactor : public ::testing::Test {
 protected:
  testing::ServiceWorld w;
  std::string secret;

  User registered() {
    auto r = w.auth().register_user("ann@example.com", kStrongPassword, kClient);
    EXPECT_TRUE(r.ok());
    return r.value();
  }
  // Logs in and turns TOTP on; returns the session that did it.
  TokenGrant enrol() {
    auto grant = w.auth().login("ann@example.com", kStrongPassword, kClient).value();
    auto who = w.auth().authenticate(grant.access_token).value();
    auto setup = w.auth().mfa_setup(who, kStrongPassword, kClient);
    EXPECT_TRUE(setup.ok());
    char* raw = nullptr;
    size_t len = 0;
    EXPECT_EQ(oath_base32_decode(setup.value().secret_base32.c_str(),
                                 setup.value().secret_base32.size(), &raw, &len),
              OATH_OK);
    secret.assign(raw, len);
    free(raw);
    EXPECT_TRUE(w.auth()
                    .mfa_confirm(who, totp::code_at(secret, totp::step_at(w.clock.now())), kClient)
                    .ok());
    w.clock.advance(30);
    return grant;
  }
  // Asks for a reset link as the user would and returns its token.
  std::string mailed_reset_token() {
    w.auth().request_password_reset("ann@example.com", kClient);
    MailRequestService requests(
        {w.users, w.email_tokens, w.outbox, w.mail_requests, w.transactions, w.clock, w.random},
        w.policy.mail);
    EXPECT_EQ(requests.fulfil_next(), MailRequestService::Outcome::queued);
    std::smatch m;
    const std::string message = w.outbox.rows.rbegin()->second.mail.message;
    EXPECT_TRUE(
        std::regex_search(message, m, std::regex("/reset-password#token=([A-Za-z0-9_-]{43})")));
    return m[1];
  }
};

TEST_F(PasswordResetWithSecondFactor, SetsThePasswordEndsSessionsAndAsksForTheFactor) {
  // The owner verified the address, then enrolled: the factor stays.
  const User ann = registered();
  w.users.users[ann.id].email_verified_at = w.clock.now();
  w.clock.advance(1);
  enrol();
  auto session = w.auth().mfa_verify(
      w.auth().login("ann@example.com", kStrongPassword, kClient).error().mfa_token,
      totp::code_at(secret, totp::step_at(w.clock.now())), std::nullopt, kClient);
  ASSERT_TRUE(session.ok());
  const std::string pending = w.auth()
                                  .login("ann@example.com", kStrongPassword, kClient)
                                  .error()
                                  .mfa_token;  // a second step under way

  const std::string token = mailed_reset_token();

  w.clock.advance(30);
  auto reset = w.auth().reset_password(token, kOtherStrongPassword, kClient);
  ASSERT_FALSE(reset.ok());
  EXPECT_EQ(reset.error().code, AuthErrc::mfa_required);
  EXPECT_FALSE(reset.error().mfa_token.empty());
  EXPECT_EQ(reset.error().methods, (std::vector<std::string>{"totp", "recovery_code"}));
  // The password is set, the sessions ended, the token spent.
  EXPECT_FALSE(w.auth().authenticate(session.value().access_token).ok());
  EXPECT_EQ(w.auth().login("ann@example.com", kOtherStrongPassword, kClient).error().code,
            AuthErrc::mfa_required);
  EXPECT_EQ(w.auth().reset_password(token, kOtherStrongPassword, kClient).error().code,
            AuthErrc::invalid_token);
  // The second step started before the reset is void; the reset's own works.
  const std::string code = totp::code_at(secret, totp::step_at(w.clock.now()));
  EXPECT_EQ(w.auth().mfa_verify(pending, code, std::nullopt, kClient).error().code,
            AuthErrc::invalid_token);
  auto finished = w.auth().mfa_verify(reset.error().mfa_token, code, std::nullopt, kClient);
  ASSERT_TRUE(finished.ok());
  EXPECT_TRUE(finished.value().user.email_verified_at.has_value());
}

// Finding 6: someone who registered the owner's address and enrolled TOTP
// locked the owner out: the owner's reset ended at 403 mfa_required.
TEST_F(PasswordResetWithSecondFactor, Finding06AResetRemovesAFactorEnrolledWhileUnverified) {
  const User squatted = registered();  // by someone else, who enrols TOTP
  enrol();
  ASSERT_TRUE(w.mfa.read(squatted.id).enabled);
  ASSERT_EQ(w.mfa.unused_recovery_codes(squatted.id).size(), 10u);
  const std::string squatters_step =
      w.auth().login("ann@example.com", kStrongPassword, kClient).error().mfa_token;

  // The owner, from the mailbox.
  const std::string token = mailed_reset_token();
  auto reset = w.auth().reset_password(token, kOtherStrongPassword, kClient);
  ASSERT_TRUE(reset.ok()) << static_cast<int>(reset.error().code);
  EXPECT_TRUE(reset.value().user.email_verified_at.has_value());
  EXPECT_FALSE(w.mfa.read(squatted.id).enabled) << "the squatter's TOTP is gone";
  EXPECT_TRUE(w.mfa.unused_recovery_codes(squatted.id).empty()) << "and its recovery codes";
  EXPECT_FALSE(w.users.users[squatted.id].mfa_enabled);
  EXPECT_EQ(w.auth()
                .mfa_verify(squatters_step, totp::code_at(secret, totp::step_at(w.clock.now())),
                            std::nullopt, kClient)
                .error()
                .code,
            AuthErrc::invalid_token);
  EXPECT_TRUE(w.auth().login("ann@example.com", kOtherStrongPassword, kClient).ok())
      << "the owner logs in with the password alone";
}

TEST_F(PasswordResetWithSecondFactor, Finding06AFactorEnrolledBeforeALaterVerificationGoesToo) {
  const User squatted = registered();
  enrol();
  // The owner follows the verification link later (it went to the mailbox):
  // the factor was still enrolled while the address was unverified.
  w.users.users[squatted.id].email_verified_at = w.clock.now();
  w.clock.advance(60);
  auto reset = w.auth().reset_password(mailed_reset_token(), kOtherStrongPassword, kClient);
  ASSERT_TRUE(reset.ok());
  EXPECT_FALSE(w.mfa.read(squatted.id).enabled);
}

// Finding 6, passkeys (issue 14): a squatter's passkey, registered while the
// address was unverified, goes with the reset; the owner's, registered after
// the address was proven, stays, and so does a TOTP enrolled then.
TEST_F(PasswordResetWithSecondFactor, Finding06APasskeyRegisteredWhileUnverifiedGoes) {
  const User ann = registered();
  auto passkey = [&](std::uint8_t n, UnixSeconds created_at) {
    Passkey p;
    p.id.bytes[0] = n;
    p.user_id = ann.id;
    p.credential_id = std::string(16, static_cast<char>(n));
    p.name = "key" + std::to_string(n);
    p.created_at = created_at;
    EXPECT_EQ(w.passkeys.add(p, 10), PasskeyStore::AddResult::added);
    return p.id;
  };
  const Uuid squatters = passkey(1, w.clock.now());
  w.clock.advance(10);
  w.users.users[ann.id].email_verified_at = w.clock.now();  // the owner proves the mailbox
  w.clock.advance(1);
  const Uuid owners = passkey(2, w.clock.now());
  enrol();

  auto reset = w.auth().reset_password(mailed_reset_token(), kOtherStrongPassword, kClient);
  ASSERT_FALSE(reset.ok());
  EXPECT_EQ(reset.error().code, AuthErrc::mfa_required) << "the owner's TOTP stays";
  EXPECT_FALSE(w.passkeys.find(squatters));
  EXPECT_TRUE(w.passkeys.find(owners));
  EXPECT_TRUE(w.mfa.read(ann.id).enabled);
}

}  // namespace
}  // namespace authd
