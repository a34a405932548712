// The second factor through the service, over in-memory fakes with a manual
// clock: enrolment, the two-step login, replay, recovery codes, throttling,
// password change and disabling.
#include <gtest/gtest.h>
#include <liboath/oath.h>

#include "auth/auth_service.h"
#include "auth/operator_service.h"
#include "auth/totp.h"
#include "fakes/service_fixture.h"

namespace authd {
namespace {

using testing::kOtherStrongPassword;
using testing::kStrongPassword;

const ClientInfo kClient{"203.0.113.7", "agent"};
const ClientInfo kElsewhere{"198.51.100.9", "agent"};

std::string decode_base32(const std::string& text) {
  char* out = nullptr;
  size_t len = 0;
  EXPECT_EQ(oath_base32_decode(text.c_str(), text.size(), &out, &len), OATH_OK);
  std::string raw(out, len);
  free(out);
  return raw;
}

class MfaTest : public ::testing::Test {
 protected:
  testing::ServiceWorld w;
  std::string secret;
  std::vector<std::string> recovery;

  void SetUp() override {
    ASSERT_TRUE(w.auth().register_user("ann@example.com", kStrongPassword, kClient).ok());
  }
  TokenGrant login() { return w.auth().login("ann@example.com", kStrongPassword, kClient).value(); }
  Authenticated who(const TokenGrant& g) { return w.auth().authenticate(g.access_token).value(); }
  std::string code_now(int offset_steps = 0) {
    return totp::code_at(secret, totp::step_at(w.clock.now()) + offset_steps);
  }
  void enrol(const TokenGrant& g) {
    auto setup = w.auth().mfa_setup(who(g), kStrongPassword, kClient);
    ASSERT_TRUE(setup.ok());
    secret = decode_base32(setup.value().secret_base32);
    auto confirmed = w.auth().mfa_confirm(who(g), code_now(), kClient);
    ASSERT_TRUE(confirmed.ok());
    recovery = confirmed.value();
    w.clock.advance(30);  // past the step the confirmation used
  }
  std::string mfa_token() {
    auto r = w.auth().login("ann@example.com", kStrongPassword, kClient);
    EXPECT_EQ(r.error().code, AuthErrc::mfa_required);
    return r.error().mfa_token;
  }
};

TEST_F(MfaTest, SetupNeedsThePasswordAndGivesAnOtpauthUri) {
  auto g = login();
  EXPECT_EQ(w.auth().mfa_setup(who(g), "wrong password!", kClient).error().code,
            AuthErrc::invalid_credentials);
  auto setup = w.auth().mfa_setup(who(g), kStrongPassword, kClient);
  ASSERT_TRUE(setup.ok());
  EXPECT_EQ(setup.value().secret_base32.size(), 32u) << "160 bits in base32, no padding";
  EXPECT_EQ(setup.value().otpauth_uri,
            "otpauth://totp/auth:ann@example.com?secret=" + setup.value().secret_base32 +
                "&issuer=auth&algorithm=SHA1&digits=6&period=30");
  EXPECT_FALSE(w.users.users.begin()->second.mfa_enabled) << "nothing changes until confirmed";
  const auto& sealed = w.mfa.states.begin()->second.pending_sealed;
  EXPECT_EQ(sealed.find(decode_base32(setup.value().secret_base32)), std::string::npos)
      << "the secret is stored sealed";
}

TEST_F(MfaTest, ConfirmTurnsItOnAndEndsOtherSessions) {
  auto other = login();
  auto g = login();
  EXPECT_EQ(w.auth().mfa_confirm(who(g), "123456", kClient).error().code,
            AuthErrc::invalid_mfa_code)
      << "nothing pending";
  auto setup = w.auth().mfa_setup(who(g), kStrongPassword, kClient);
  secret = decode_base32(setup.value().secret_base32);
  std::string wrong = code_now() == "000000" ? "000001" : "000000";
  EXPECT_EQ(w.auth().mfa_confirm(who(g), wrong, kClient).error().code, AuthErrc::invalid_mfa_code);
  auto confirmed = w.auth().mfa_confirm(who(g), code_now(), kClient);
  ASSERT_TRUE(confirmed.ok());
  EXPECT_EQ(confirmed.value().size(), 10u);
  EXPECT_TRUE(w.users.users.begin()->second.mfa_enabled);
  EXPECT_FALSE(w.auth().authenticate(other.access_token).ok()) << "other sessions end";
  EXPECT_TRUE(w.auth().authenticate(g.access_token).ok()) << "this one stays";
  EXPECT_EQ(w.auth().mfa_setup(who(g), kStrongPassword, kClient).error().code,
            AuthErrc::mfa_already_enabled);
}

TEST_F(MfaTest, OnlyTheNewestSetupCanBeConfirmed) {
  auto g = login();
  auto first = w.auth().mfa_setup(who(g), kStrongPassword, kClient).value();
  auto second = w.auth().mfa_setup(who(g), kStrongPassword, kClient).value();
  secret = decode_base32(first.secret_base32);
  EXPECT_FALSE(w.auth().mfa_confirm(who(g), code_now(), kClient).ok());
  secret = decode_base32(second.secret_base32);
  EXPECT_TRUE(w.auth().mfa_confirm(who(g), code_now(), kClient).ok());
}

TEST_F(MfaTest, LoginTakesTwoStepsAndCarriesOtpInAmr) {
  enrol(login());
  auto first = w.auth().login("ann@example.com", kStrongPassword, kClient);
  ASSERT_EQ(first.error().code, AuthErrc::mfa_required);
  EXPECT_EQ(first.error().methods, (std::vector<std::string>{"totp", "recovery_code"}));
  auto grant = w.auth().mfa_verify(first.error().mfa_token, code_now(), std::nullopt, kClient);
  ASSERT_TRUE(grant.ok());
  auto claims = w.signer.verify(grant.value().access_token, w.clock.now());
  EXPECT_EQ(claims->amr, (std::vector<std::string>{"pwd", "otp"}));
  // The refresh keeps the session's amr.
  auto refreshed = w.auth().refresh(grant.value().refresh_token, kClient).value();
  EXPECT_EQ(w.signer.verify(refreshed.access_token, w.clock.now())->amr,
            (std::vector<std::string>{"pwd", "otp"}));
  EXPECT_EQ(
      w.auth().mfa_verify(first.error().mfa_token, code_now(1), std::nullopt, kClient).error().code,
      AuthErrc::invalid_token)
      << "a success spends the mfa_token";
}

TEST_F(MfaTest, ACodeIsAcceptedOnce) {
  enrol(login());
  const std::string code = code_now();
  ASSERT_TRUE(w.auth().mfa_verify(mfa_token(), code, std::nullopt, kClient).ok());
  EXPECT_EQ(w.auth().mfa_verify(mfa_token(), code, std::nullopt, kClient).error().code,
            AuthErrc::invalid_mfa_code)
      << "replayed in its window";
  EXPECT_EQ(w.auth().mfa_verify(mfa_token(), code_now(-1), std::nullopt, kClient).error().code,
            AuthErrc::invalid_mfa_code)
      << "an earlier step after a later one";
  EXPECT_TRUE(w.auth().mfa_verify(mfa_token(), code_now(1), std::nullopt, kClient).ok())
      << "the next step (drift) is still fresh";
}

TEST_F(MfaTest, WrongCodesKeepTheTokenCountAsFailuresAndThrottle) {
  enrol(login());
  const std::string token = mfa_token();
  const std::string wrong = code_now() == "000000" ? "000001" : "000000";
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(w.auth().mfa_verify(token, wrong, std::nullopt, kClient).error().code,
              AuthErrc::invalid_mfa_code);
  }
  auto throttled = w.auth().mfa_verify(token, code_now(), std::nullopt, kClient);
  EXPECT_EQ(throttled.error().code, AuthErrc::too_many_attempts)
      << "six-digit codes cannot be brute-forced";
  w.clock.advance(30);
  EXPECT_TRUE(w.auth().mfa_verify(token, code_now(), std::nullopt, kClient).ok())
      << "a wrong code did not spend the mfa_token (still within its 5 minutes)";
}

TEST_F(MfaTest, ThePasswordStepAfterFailuresNeitherCountsNorClears) {
  enrol(login());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(w.auth().login("ann@example.com", "wrong password!", kClient).error().code,
              AuthErrc::invalid_credentials);
  }
  const auto before = w.throttle.read("ann@example.com", kClient.ip);
  ASSERT_EQ(before.pair.failures, 3u);
  const std::string token = mfa_token();  // the right password: a reservation, given back
  EXPECT_EQ(w.throttle.read("ann@example.com", kClient.ip).pair.failures, 3u);
  EXPECT_EQ(w.throttle.read("ann@example.com", kClient.ip).email.failures, 3u);
  ASSERT_TRUE(w.auth().mfa_verify(token, code_now(), std::nullopt, kClient).ok());
  EXPECT_EQ(w.throttle.read("ann@example.com", kClient.ip).pair.failures, 0u)
      << "the completed second step is the success";
}

TEST_F(MfaTest, TheTokenIsBoundToItsAddressAndExpires) {
  enrol(login());
  const std::string token = mfa_token();
  EXPECT_EQ(w.auth().mfa_verify(token, code_now(), std::nullopt, kElsewhere).error().code,
            AuthErrc::invalid_token);
  w.clock.advance(301);
  EXPECT_EQ(w.auth().mfa_verify(token, code_now(), std::nullopt, kClient).error().code,
            AuthErrc::invalid_token);
  EXPECT_EQ(w.auth().mfa_verify("garbage", code_now(), std::nullopt, kClient).error().code,
            AuthErrc::invalid_token);
}

TEST_F(MfaTest, RecoveryCodesWorkOnceIgnoringCaseAndHyphens) {
  enrol(login());
  std::string typed = recovery[3];
  for (auto& c : typed)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto grant = w.auth().mfa_verify(mfa_token(), std::nullopt, typed, kClient);
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(w.signer.verify(grant.value().access_token, w.clock.now())->amr,
            (std::vector<std::string>{"pwd", "otp"}));
  EXPECT_EQ(w.auth().mfa_verify(mfa_token(), std::nullopt, recovery[3], kClient).error().code,
            AuthErrc::invalid_mfa_code);
  EXPECT_EQ(w.mfa.unused_recovery_codes(w.users.users.begin()->first).size(), 9u);
}

TEST_F(MfaTest, NewRecoveryCodesVoidTheOldOnes) {
  auto g = login();
  enrol(g);
  auto again = w.auth().mfa_verify(mfa_token(), code_now(), std::nullopt, kClient).value();
  EXPECT_EQ(w.auth().mfa_new_recovery_codes(who(again), "wrong password!", kClient).error().code,
            AuthErrc::invalid_credentials);
  auto fresh = w.auth().mfa_new_recovery_codes(who(again), kStrongPassword, kClient);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(w.auth().mfa_verify(mfa_token(), std::nullopt, recovery[0], kClient).ok());
  EXPECT_TRUE(w.auth().mfa_verify(mfa_token(), std::nullopt, fresh.value()[0], kClient).ok());
}

TEST_F(MfaTest, PasswordChangeNeedsACodeWhileOn) {
  enrol(login());
  auto r = w.auth().change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                                    std::nullopt, kClient);
  EXPECT_EQ(r.error().code, AuthErrc::mfa_required);
  EXPECT_TRUE(r.error().mfa_token.empty()) << "an mfa_token comes only from login";
  const std::string pending = mfa_token();
  r = w.auth().change_password("ann@example.com", "wrong password!", kOtherStrongPassword,
                               std::string("123456"), kClient);
  EXPECT_EQ(r.error().code, AuthErrc::invalid_credentials) << "the password is judged first";
  r = w.auth().change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                               std::string(code_now()), kClient);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(w.signer.verify(r.value().access_token, w.clock.now())->amr,
            (std::vector<std::string>{"pwd", "otp"}));
  EXPECT_EQ(w.auth().mfa_verify(pending, code_now(1), std::nullopt, kClient).error().code,
            AuthErrc::invalid_token)
      << "a password change voids outstanding mfa_tokens";
}

TEST_F(MfaTest, DisableNeedsPasswordThenCodeAndEndsOtherSessions) {
  auto g = login();
  enrol(g);
  auto other = w.auth().mfa_verify(mfa_token(), code_now(), std::nullopt, kClient).value();
  w.clock.advance(30);
  EXPECT_EQ(w.auth().mfa_disable(who(g), "wrong password!", code_now(), kClient).error().code,
            AuthErrc::invalid_credentials);
  EXPECT_TRUE(w.auth().mfa_disable(who(g), kStrongPassword, code_now(), kClient).ok())
      << "the refused request spent no code";
  EXPECT_FALSE(w.auth().authenticate(other.access_token).ok());
  EXPECT_TRUE(w.auth().authenticate(g.access_token).ok());
  EXPECT_TRUE(w.auth().login("ann@example.com", kStrongPassword, kClient).ok())
      << "a password logs in again";
  EXPECT_EQ(w.auth().mfa_disable(who(g), kStrongPassword, "123456", kClient).error().code,
            AuthErrc::mfa_not_enabled);
}

TEST_F(MfaTest, OperatorResetRemovesTheFactorAndEndsSessions) {
  auto g = login();
  enrol(g);
  OperatorService ops{w.users,        w.sessions,     w.throttle, w.mfa,
                      w.email_tokens, w.transactions, w.clock};
  auto r = ops.reset_mfa("ann@example.com");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(w.auth().authenticate(g.access_token).ok());
  EXPECT_TRUE(w.auth().login("ann@example.com", kStrongPassword, kClient).ok());
  EXPECT_EQ(ops.reset_mfa("bob@example.com").error().code, AuthErrc::not_found);
}

}  // namespace
}  // namespace authd
