// Passkeys through the service, over in-memory fakes and a software
// authenticator: registration (the password again, the challenge bound and
// spent, the notice, exists before limit), removal, passwordless login (the
// challenge, the owner's user handle, the counter on device-bound and synced
// passkeys, throttling that never refuses one), and a passkey as the second
// step of a password login.
#include <gtest/gtest.h>
#include <liboath/oath.h>

#include "auth/auth_service.h"
#include "auth/totp.h"
#include "fakes/service_fixture.h"
#include "fakes/soft_authenticator.h"
#include "util/base64url.h"

namespace authd {
namespace {

using testing::KeyKind;
using testing::kStrongPassword;
using testing::SoftAuthenticator;
namespace flag = webauthn::flag;

const ClientInfo kClient{"203.0.113.7", "agent"};
constexpr const char* kOrigin = "http://localhost:8080";

ServicePolicy passkey_policy() {
  ServicePolicy p;
  p.relying_party = webauthn::RelyingParty{"localhost", "authd", {kOrigin}};
  p.max_passkeys_per_user = 3;
  return p;
}

class PasskeysTest : public ::testing::Test {
 protected:
  testing::ServiceWorld w{passkey_policy()};
  User ann;

  void SetUp() override { ann = register_account("ann@example.com"); }
  User register_account(const std::string& email) {
    auto r = w.auth().register_user(email, kStrongPassword, kClient);
    EXPECT_TRUE(r.ok());
    return r.value();
  }
  TokenGrant login(const std::string& email = "ann@example.com") {
    return w.auth().login(email, kStrongPassword, kClient).value();
  }
  Authenticated who(const TokenGrant& g) { return w.auth().authenticate(g.access_token).value(); }

  PasskeyCreationOptions options(const TokenGrant& g) {
    auto o = w.auth().passkey_registration_options(who(g), kStrongPassword, std::nullopt, kClient);
    EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.error().detail);
    return o.value();
  }
  Outcome<Passkey> register_with(SoftAuthenticator& a, const TokenGrant& g,
                                 SoftAuthenticator::Create c = {}, std::string name = "Laptop") {
    if (c.challenge == SoftAuthenticator::Create{}.challenge) {
      c.challenge = base64url_encode(options(g).challenge);
    }
    c.origin = kOrigin;
    return w.auth().register_passkey(who(g), a.registration(c), {"internal"}, name, kClient);
  }
  std::string handle_of(const User& u) { return *w.passkeys.find_user_handle(u.id); }
  SoftAuthenticator::Get get_for(const User& u, SoftAuthenticator::Get g = {}) {
    g.challenge = base64url_encode(w.auth().passkey_login_options().challenge);
    g.origin = kOrigin;
    if (!g.user_handle) g.user_handle = handle_of(u);
    return g;
  }
  unsigned failures(const std::string& email) {
    return w.throttle.read(email, kClient.ip).pair.failures;
  }
  std::vector<std::string> outbox_kinds() {
    std::vector<std::string> out;
    for (const auto& [id, row] : w.outbox.rows)
      out.emplace_back(mail_kind_name(row.mail.kind));
    return out;
  }
};

// --- registration ----------------------------------------------------------------------

TEST_F(PasskeysTest, OptionsNeedThePasswordAndGiveAFreshChallengeAndAStableHandle) {
  auto g = login();
  auto wrong =
      w.auth().passkey_registration_options(who(g), "not my password", std::nullopt, kClient);
  EXPECT_EQ(wrong.error().code, AuthErrc::invalid_credentials);
  EXPECT_EQ(failures("ann@example.com"), 1u) << "a wrong password is a failed login";
  auto first = options(g);
  auto second = options(g);
  EXPECT_EQ(first.challenge.size(), 32u);
  EXPECT_NE(first.challenge, second.challenge);
  EXPECT_EQ(first.user_handle.size(), 32u);
  EXPECT_EQ(first.user_handle, second.user_handle) << "made once per account";
  EXPECT_EQ(first.user_name, "ann@example.com");
  EXPECT_TRUE(first.exclude.empty());
  EXPECT_EQ(failures("ann@example.com"), 1u)
      << "the right password is neither a failure nor a login: it clears nothing, as at TOTP "
         "setup (API.md, Throttling)";
  // Stored only as a digest.
  for (const auto& [hash, c] : w.passkeys.challenges) {
    EXPECT_NE(hash, first.challenge);
    EXPECT_EQ(c.purpose, ChallengePurpose::registration);
  }
}

TEST_F(PasskeysTest, WithTotpOnTheOptionsNeedACodeToo) {
  auto g = login();
  auto setup = w.auth().mfa_setup(who(g), kStrongPassword, kClient);
  const std::string secret = [&] {
    // The sealed pending secret is in the fake; take the code from the URI's secret.
    return setup.value().secret_base32;
  }();
  char* raw = nullptr;
  size_t len = 0;
  ASSERT_EQ(oath_base32_decode(secret.c_str(), secret.size(), &raw, &len), OATH_OK);
  const std::string key(raw, len);
  free(raw);
  ASSERT_TRUE(
      w.auth().mfa_confirm(who(g), totp::code_at(key, totp::step_at(w.clock.now())), kClient).ok());
  w.clock.advance(30);
  auto none = w.auth().passkey_registration_options(who(g), kStrongPassword, std::nullopt, kClient);
  EXPECT_EQ(none.error().code, AuthErrc::mfa_required);
  EXPECT_EQ(none.error().methods, (std::vector<std::string>{"totp", "recovery_code"}));
  EXPECT_TRUE(none.error().mfa_token.empty());
  EXPECT_EQ(failures("ann@example.com"), 0u) << "no code: neither a failure nor a success";
  EXPECT_EQ(w.auth()
                .passkey_registration_options(who(g), kStrongPassword, "000000", kClient)
                .error()
                .code,
            AuthErrc::invalid_mfa_code);
  EXPECT_EQ(failures("ann@example.com"), 1u);
  const std::string code = totp::code_at(key, totp::step_at(w.clock.now()));
  EXPECT_TRUE(w.auth().passkey_registration_options(who(g), kStrongPassword, code, kClient).ok());
}

TEST_F(PasskeysTest, RegistersStoresAndSendsANotice) {
  auto g = login();
  SoftAuthenticator a(KeyKind::eddsa);
  const auto before = w.outbox.rows.size();
  auto p = register_with(a, g);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ(p.value().name, "Laptop");
  EXPECT_EQ(p.value().user_id, ann.id);
  EXPECT_EQ(p.value().alg, -8);
  EXPECT_EQ(p.value().transports, "internal");
  EXPECT_FALSE(p.value().last_used_at);
  EXPECT_EQ(w.passkeys.count(ann.id), 1u);
  ASSERT_EQ(w.outbox.rows.size(), before + 1);
  EXPECT_EQ(w.outbox.rows.rbegin()->second.mail.kind, MailKind::passkey_added);
  EXPECT_NE(w.outbox.rows.rbegin()->second.mail.message.find("Laptop"), std::string::npos);
  EXPECT_EQ(options(g).exclude.size(), 1u) << "the next options exclude it";
}

TEST_F(PasskeysTest, TheChallengeIsTheAccountsUnspentAndFresh) {
  auto g = login();
  SoftAuthenticator a;
  const std::string challenge = base64url_encode(options(g).challenge);
  SoftAuthenticator::Create c;
  c.challenge = challenge;
  c.rp_id = "other.example";  // fails a later step...
  EXPECT_EQ(register_with(a, g, c).error().code, AuthErrc::invalid_passkey);
  c.rp_id = "localhost";  // ...and the challenge was spent by that attempt
  auto replay = register_with(a, g, c);
  EXPECT_EQ(replay.error().code, AuthErrc::invalid_passkey);
  EXPECT_NE(replay.error().detail.find("challenge"), std::string::npos) << replay.error().detail;

  // Another account's challenge: refused, and spent for its owner too.
  register_account("bob@example.com");
  auto bob = login("bob@example.com");
  c.challenge = base64url_encode(options(bob).challenge);
  EXPECT_EQ(register_with(a, g, c).error().code, AuthErrc::invalid_passkey);
  SoftAuthenticator b;
  EXPECT_EQ(register_with(b, bob, c).error().code, AuthErrc::invalid_passkey);

  // Five minutes, no more.
  c.challenge = base64url_encode(options(g).challenge);
  w.clock.advance(300);
  EXPECT_EQ(register_with(a, g, c).error().code, AuthErrc::invalid_passkey);

  // A login challenge is not a registration one.
  c.challenge = base64url_encode(w.auth().passkey_login_options().challenge);
  EXPECT_EQ(register_with(a, g, c).error().code, AuthErrc::invalid_passkey);
  EXPECT_EQ(w.passkeys.count(ann.id), 0u);
}

TEST_F(PasskeysTest, AFailedCheckIs422NamingTheStepAndStoresNothing) {
  auto g = login();
  SoftAuthenticator a;
  SoftAuthenticator::Create c;
  c.flags = flag::kUserPresent | flag::kAttestedData;  // UV unset
  auto r = register_with(a, g, c);
  EXPECT_EQ(r.error().code, AuthErrc::invalid_passkey);
  EXPECT_NE(r.error().detail.find("UV"), std::string::npos) << r.error().detail;
  EXPECT_EQ(w.passkeys.count(ann.id), 0u);
  SoftAuthenticator es384(KeyKind::es384);
  EXPECT_EQ(register_with(es384, g).error().code, AuthErrc::invalid_passkey);
}

TEST_F(PasskeysTest, ACredentialRegisteredAlreadyIs409BeforeTheLimit) {
  auto g = login();
  SoftAuthenticator a;
  ASSERT_TRUE(register_with(a, g).ok());
  EXPECT_EQ(register_with(a, g).error().code, AuthErrc::passkey_exists);
  register_account("bob@example.com");
  auto bob = login("bob@example.com");
  EXPECT_EQ(register_with(a, bob).error().code, AuthErrc::passkey_exists)
      << "unique across accounts";
  SoftAuthenticator b, c;
  ASSERT_TRUE(register_with(b, g).ok());
  ASSERT_TRUE(register_with(c, g).ok());
  SoftAuthenticator d;
  EXPECT_TRUE(
      w.auth().passkey_registration_options(who(g), kStrongPassword, std::nullopt, kClient).ok())
      << "options are answered even at the limit";
  EXPECT_EQ(register_with(d, g).error().code, AuthErrc::passkey_limit);
  EXPECT_EQ(register_with(a, g).error().code, AuthErrc::passkey_exists);
  EXPECT_EQ(w.passkeys.count(ann.id), 3u);
}

TEST_F(PasskeysTest, RemovalIsForTheOwnerWithARecentLoginAndSendsANotice) {
  auto g = login();
  SoftAuthenticator a;
  auto p = register_with(a, g).value();
  register_account("bob@example.com");
  auto bob = login("bob@example.com");
  EXPECT_EQ(w.auth().remove_passkey(who(bob), p.id.to_string(), kClient).error().code,
            AuthErrc::not_found);
  EXPECT_EQ(w.auth().remove_passkey(who(g), "not-an-id", kClient).error().code,
            AuthErrc::not_found);
  w.clock.advance(301);
  EXPECT_EQ(w.auth().remove_passkey(who(g), p.id.to_string(), kClient).error().code,
            AuthErrc::reauthentication_required);
  auto fresh = login();
  ASSERT_TRUE(w.auth().remove_passkey(who(fresh), p.id.to_string(), kClient).ok());
  EXPECT_EQ(w.passkeys.count(ann.id), 0u);
  EXPECT_EQ(outbox_kinds().back(), "passkey_removed");
  EXPECT_EQ(w.auth().remove_passkey(who(fresh), p.id.to_string(), kClient).error().code,
            AuthErrc::not_found);
}

// --- passwordless login ---------------------------------------------------------------

class PasskeyLoginTest : public PasskeysTest {
 protected:
  SoftAuthenticator device{KeyKind::es256};
  SoftAuthenticator synced{KeyKind::eddsa};
  void SetUp() override {
    PasskeysTest::SetUp();
    auto g = login();
    ASSERT_TRUE(register_with(device, g).ok());
    SoftAuthenticator::Create c;
    c.flags |= flag::kBackupEligible | flag::kBackedUp;
    ASSERT_TRUE(register_with(synced, g, c).ok());
  }
  Outcome<TokenGrant> log_in(SoftAuthenticator& a, SoftAuthenticator::Get g = {}) {
    return w.auth().passkey_login(a.assertion(get_for(ann, std::move(g))), kClient);
  }
  std::vector<std::string> amr_of(const TokenGrant& g) { return who(g).claims.amr; }
};

TEST_F(PasskeyLoginTest, ADeviceBoundPasskeyLogsInAsHwkAndASyncedOneAsSwk) {
  auto d = log_in(device);
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_EQ(d.value().user.id, ann.id);
  EXPECT_EQ(amr_of(d.value()), (std::vector<std::string>{"hwk", "mfa"}));
  SoftAuthenticator::Get g;
  g.flags |= flag::kBackupEligible | flag::kBackedUp;
  auto s = log_in(synced, g);
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ(amr_of(s.value()), (std::vector<std::string>{"swk", "mfa"}));
  auto stored = *w.passkeys.find_by_credential_id(device.credential_id());
  EXPECT_EQ(stored.sign_count, device.counter());
  EXPECT_EQ(stored.last_used_at, w.clock.now());
}

TEST_F(PasskeyLoginTest, AChallengeIsSpentByAnyAttemptAndLastsFiveMinutes) {
  auto g = get_for(ann);
  SoftAuthenticator::Get spoiled = g;
  spoiled.bad_signature = true;
  EXPECT_EQ(w.auth().passkey_login(device.assertion(spoiled), kClient).error().code,
            AuthErrc::invalid_credentials);
  EXPECT_EQ(w.auth().passkey_login(device.assertion(g), kClient).error().code,
            AuthErrc::invalid_token)
      << "replayed";
  g = get_for(ann);
  w.clock.advance(300);
  EXPECT_EQ(w.auth().passkey_login(device.assertion(g), kClient).error().code,
            AuthErrc::invalid_token)
      << "expired";
  EXPECT_EQ(failures("ann@example.com"), 1u)
      << "the bad signature counted; the refused challenges count for nothing";
  // A registration challenge is not a login one.
  SoftAuthenticator::Get foreign = get_for(ann);
  foreign.challenge = base64url_encode(options(login()).challenge);
  EXPECT_EQ(w.auth().passkey_login(device.assertion(foreign), kClient).error().code,
            AuthErrc::invalid_token);
}

TEST_F(PasskeyLoginTest, AnUnknownCredentialFailsAndCountsForNobody) {
  SoftAuthenticator stranger;
  EXPECT_EQ(w.auth().passkey_login(stranger.assertion(get_for(ann)), kClient).error().code,
            AuthErrc::invalid_credentials);
  EXPECT_EQ(failures("ann@example.com"), 0u);
}

TEST_F(PasskeyLoginTest, TheUserHandleMustBeThereAndTheOwners) {
  SoftAuthenticator::Get g;
  g.user_handle = std::string(32, 'x');
  EXPECT_EQ(log_in(device, g).error().code, AuthErrc::invalid_credentials);
  auto none = get_for(ann);
  none.user_handle = std::nullopt;
  auto a = device.assertion(none);
  a.user_handle.reset();
  EXPECT_EQ(w.auth().passkey_login(a, kClient).error().code, AuthErrc::invalid_credentials);
  // Bob's handle with Ann's passkey.
  auto bob = register_account("bob@example.com");
  auto bg = login("bob@example.com");
  options(bg);
  g.user_handle = handle_of(bob);
  EXPECT_EQ(log_in(device, g).error().code, AuthErrc::invalid_credentials);
  EXPECT_EQ(failures("ann@example.com"), 3u) << "each a failed login of the owner";
}

TEST_F(PasskeyLoginTest, UserVerificationIsRequired) {
  SoftAuthenticator::Get g;
  g.flags = flag::kUserPresent;
  EXPECT_EQ(log_in(device, g).error().code, AuthErrc::invalid_credentials);
}

TEST_F(PasskeyLoginTest, ACounterThatDidNotGrowRefusesADeviceBoundPasskey) {
  ASSERT_TRUE(log_in(device).ok());
  const auto stored = w.passkeys.find_by_credential_id(device.credential_id())->sign_count;
  SoftAuthenticator::Get g;
  g.sign_count = stored;  // a clone replaying the same value
  EXPECT_EQ(log_in(device, g).error().code, AuthErrc::invalid_credentials);
  g.sign_count = stored - 1;
  EXPECT_EQ(log_in(device, g).error().code, AuthErrc::invalid_credentials);
  EXPECT_EQ(w.passkeys.find_by_credential_id(device.credential_id())->sign_count, stored);
  g.sign_count = stored + 1;
  EXPECT_TRUE(log_in(device, g).ok());
}

TEST_F(PasskeyLoginTest, ACounterThatDidNotGrowIsOnlyLoggedForASyncedOne) {
  SoftAuthenticator::Get g;
  g.flags |= flag::kBackupEligible | flag::kBackedUp;
  g.sign_count = 10;
  ASSERT_TRUE(log_in(synced, g).ok());
  g.sign_count = 4;
  EXPECT_TRUE(log_in(synced, g).ok());
  EXPECT_EQ(w.passkeys.find_by_credential_id(synced.credential_id())->sign_count, 10u)
      << "the stored value is left as it was";
}

TEST_F(PasskeyLoginTest, ZeroCountersAreNotCompared) {
  SoftAuthenticator zero(KeyKind::rs256);
  ASSERT_TRUE(register_with(zero, login()).ok());
  SoftAuthenticator::Get g;
  g.sign_count = 0;
  ASSERT_TRUE(log_in(zero, g).ok());
  EXPECT_TRUE(log_in(zero, g).ok());
}

TEST_F(PasskeyLoginTest, ADisabledAccountIs403AfterTheCounterIsStoredAndCountsNothing) {
  w.users.users[ann.id].disabled_at = w.clock.now();
  SoftAuthenticator::Get g;
  g.sign_count = 7;
  EXPECT_EQ(log_in(device, g).error().code, AuthErrc::account_disabled);
  EXPECT_EQ(w.passkeys.find_by_credential_id(device.credential_id())->sign_count, 7u);
  EXPECT_EQ(failures("ann@example.com"), 0u);
}

TEST_F(PasskeyLoginTest, RequireVerifiedEmailAppliesAsAtLogin) {
  w.policy.mail.require_verified_email = true;
  w.rebuild();
  EXPECT_EQ(log_in(device).error().code, AuthErrc::email_not_verified);
  w.users.users[ann.id].email_verified_at = w.clock.now();
  EXPECT_TRUE(log_in(device).ok());
}

TEST_F(PasskeyLoginTest, FailedPasswordsNeverLockThePasskeyOutAndASuccessClearsThem) {
  for (int i = 0; i < 10; ++i)
    w.auth().login("ann@example.com", "wrong password!", kClient);
  EXPECT_EQ(w.auth().login("ann@example.com", kStrongPassword, kClient).error().code,
            AuthErrc::too_many_attempts);
  ASSERT_TRUE(log_in(device).ok());
  EXPECT_EQ(failures("ann@example.com"), 0u);
  EXPECT_TRUE(w.auth().login("ann@example.com", kStrongPassword, kClient).ok());
}

TEST_F(PasskeyLoginTest, TotpOnNeedsNoCodeForAPasskey) {
  w.users.users[ann.id].mfa_enabled = true;
  w.mfa.states[ann.id].enabled = true;
  auto g = log_in(device);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(amr_of(g.value()), (std::vector<std::string>{"hwk", "mfa"}));
}

// Issue 16 with passkeys: a passkey login records when it happened, under the
// account's lock, and opens no session for an account closed meanwhile.
TEST_F(PasskeyLoginTest, APasskeyLoginRecordsWhenItHappened) {
  w.clock.advance(60);
  ASSERT_TRUE(log_in(device).ok());
  EXPECT_EQ(w.users.users[ann.id].last_login_at, w.clock.now());
}

TEST_F(PasskeyLoginTest, APasskeyLoginRacingTheClosingOpensNoSession) {
  const std::size_t sessions = w.sessions.sessions.size();
  // The assertion verified before the account went; its session would come
  // after the closing.
  w.transactions.before_next = [&] { w.users.erase_account(ann.id, ann.email); };
  auto r = log_in(device);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_credentials);
  EXPECT_LE(w.sessions.sessions.size(), sessions);
  for (const auto& [id, session] : w.sessions.sessions)
    EXPECT_NE(session.user_id, ann.id) << "no session of the closed account";
  EXPECT_TRUE(w.throttle.rows.empty()) << "nothing written for the email afterwards";
}

TEST_F(PasskeyLoginTest, ClosingTheAccountRemovesItsPasskeysHandleAndCeremonies) {
  auto g = login();
  options(g);                        // a registration under way
  w.auth().passkey_login_options();  // a passwordless login's, naming nobody
  ASSERT_TRUE(w.auth().close_account(who(g), kStrongPassword, std::nullopt, kClient).ok());
  EXPECT_TRUE(w.passkeys.passkeys.empty());
  EXPECT_TRUE(w.passkeys.handles.empty());
  ASSERT_EQ(w.passkeys.challenges.size(), 1u);
  EXPECT_FALSE(w.passkeys.challenges.begin()->second.user_id);
  EXPECT_FALSE(w.passkeys.find_by_credential_id(device.credential_id()));
}

// --- as a second factor ----------------------------------------------------------------

class PasskeySecondFactorTest : public PasskeyLoginTest {
 protected:
  void SetUp() override {
    PasskeyLoginTest::SetUp();
    w.users.users[ann.id].mfa_enabled = true;
    w.mfa.states[ann.id].enabled = true;
  }
  std::string mfa_token() {
    auto r = w.auth().login("ann@example.com", kStrongPassword, kClient);
    EXPECT_EQ(r.error().code, AuthErrc::mfa_required);
    EXPECT_EQ(r.error().methods, (std::vector<std::string>{"totp", "recovery_code", "passkey"}));
    return r.error().mfa_token;
  }
  SoftAuthenticator::Get second_get(const std::string& token, SoftAuthenticator::Get g = {}) {
    auto o = w.auth().mfa_passkey_options(token, kClient);
    EXPECT_TRUE(o.ok());
    EXPECT_FALSE(o.value().user_verification_required);
    EXPECT_EQ(o.value().allow.size(), 2u);
    g.challenge = base64url_encode(o.value().challenge);
    g.origin = kOrigin;
    return g;
  }
};

TEST_F(PasskeySecondFactorTest, APasskeyCompletesThePasswordLoginWithUserPresenceOnly) {
  const std::string token = mfa_token();
  SoftAuthenticator::Get g;
  g.flags = flag::kUserPresent;  // UV not needed: the password was the first factor
  const auto first = second_get(token, g);
  const auto again = second_get(token, g);
  auto r = w.auth().mfa_verify_passkey(token, device.assertion(first), kClient);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(amr_of(r.value()), (std::vector<std::string>{"pwd", "hwk"}));
  EXPECT_EQ(w.auth().mfa_verify_passkey(token, device.assertion(again), kClient).error().code,
            AuthErrc::invalid_token)
      << "the mfa_token is spent";
  EXPECT_EQ(w.auth().mfa_passkey_options(token, kClient).error().code, AuthErrc::invalid_token);
  const std::string t2 = mfa_token();
  SoftAuthenticator::Get s;
  s.flags |= flag::kBackupEligible | flag::kBackedUp;
  auto r2 = w.auth().mfa_verify_passkey(t2, synced.assertion(second_get(t2, s)), kClient);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(amr_of(r2.value()), (std::vector<std::string>{"pwd", "swk"}));
}

TEST_F(PasskeySecondFactorTest, ThePasskeySecondStepRecordsWhenTheLoginHappened) {
  const std::string token = mfa_token();
  const auto g = second_get(token);
  w.clock.advance(30);
  ASSERT_TRUE(w.auth().mfa_verify_passkey(token, device.assertion(g), kClient).ok());
  EXPECT_EQ(w.users.users[ann.id].last_login_at, w.clock.now());
}

TEST_F(PasskeySecondFactorTest, TheChallengeIsBoundToTheMfaTokenAndAFailureLeavesItUsable) {
  const std::string first = mfa_token();
  const std::string second = mfa_token();
  auto other_challenge = second_get(second);
  EXPECT_EQ(
      w.auth().mfa_verify_passkey(first, device.assertion(other_challenge), kClient).error().code,
      AuthErrc::invalid_mfa_code);
  EXPECT_EQ(failures("ann@example.com"), 1u) << "a failed login";
  SoftAuthenticator::Get bad;
  bad.bad_signature = true;
  EXPECT_EQ(w.auth()
                .mfa_verify_passkey(first, device.assertion(second_get(first, bad)), kClient)
                .error()
                .code,
            AuthErrc::invalid_mfa_code);
  EXPECT_TRUE(w.auth().mfa_verify_passkey(first, device.assertion(second_get(first)), kClient).ok())
      << "the mfa_token stayed usable";
}

TEST_F(PasskeySecondFactorTest, APasskeyRemovedOrAnotherAccountsIsAWrongCode) {
  const std::string token = mfa_token();
  auto g = second_get(token);
  w.passkeys.remove_all(ann.id);
  EXPECT_EQ(w.auth().mfa_verify_passkey(token, device.assertion(g), kClient).error().code,
            AuthErrc::invalid_mfa_code);
  EXPECT_EQ(w.auth().mfa_passkey_options(token, kClient).error().code, AuthErrc::not_found);
}

TEST_F(PasskeySecondFactorTest, AUserHandleMayBeLeftOutButIfSentIsTheAccounts) {
  const std::string token = mfa_token();
  auto g = second_get(token);
  g.user_handle = std::string(32, 'z');
  EXPECT_EQ(w.auth().mfa_verify_passkey(token, device.assertion(g), kClient).error().code,
            AuthErrc::invalid_mfa_code);
  auto ok = second_get(token);
  auto a = device.assertion(ok);
  a.user_handle.reset();
  EXPECT_TRUE(w.auth().mfa_verify_passkey(token, a, kClient).ok());
}

TEST_F(PasskeySecondFactorTest, OptionsJudgeTheMfaTokenAsVerifyDoes) {
  EXPECT_EQ(w.auth().mfa_passkey_options("not-a-token", kClient).error().code,
            AuthErrc::invalid_token);
  const std::string token = mfa_token();
  const ClientInfo elsewhere{"198.51.100.9", "agent"};
  EXPECT_EQ(w.auth().mfa_passkey_options(token, elsewhere).error().code, AuthErrc::invalid_token);
  EXPECT_EQ(failures("ann@example.com"), 0u);
}

// --- a write that lost to a concurrent one (galera15's conflict retry) -----------------
// A COMMIT that fails certification (1213) is run again whole by the runner
// (FakeTransactions::conflicts_at_commit, as MysqlTransactionRunner does):
// each use case decides afresh on what it re-reads, and nothing of the lost
// run stays.

std::size_t count_kind(const std::vector<std::string>& kinds, std::string_view kind) {
  return static_cast<std::size_t>(std::count(kinds.begin(), kinds.end(), kind));
}

TEST_F(PasskeysTest, ARegistrationRunAgainStoresOnePasskeyAndSendsOneNotice) {
  auto g = login();
  SoftAuthenticator a;
  w.transactions.conflicts_at_commit = 1;
  auto p = register_with(a, g);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ(w.transactions.conflicts, 1);
  EXPECT_EQ(w.passkeys.count(ann.id), 1u);
  EXPECT_EQ(count_kind(outbox_kinds(), "passkey_added"), 1u);
}

// Two registrations of one account through two nodes, one passkey short of
// the limit: the one that lost counts again with the winner's passkey in.
TEST_F(PasskeysTest, ARegistrationThatLostToTheLastFreePlaceAnswersLimit) {
  auto g = login();
  SoftAuthenticator first, second, winner, loser;
  ASSERT_TRUE(register_with(first, g).ok());
  ASSERT_TRUE(register_with(second, g).ok());
  SoftAuthenticator::Create c;
  c.challenge = base64url_encode(options(g).challenge);
  const std::string winners_challenge = base64url_encode(options(g).challenge);
  w.transactions.conflicts_at_commit = 1;
  w.transactions.conflict_winner = [&] {
    SoftAuthenticator::Create wc;
    wc.challenge = winners_challenge;
    ASSERT_TRUE(register_with(winner, g, wc).ok());
  };
  auto r = register_with(loser, g, c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::passkey_limit);
  EXPECT_EQ(w.passkeys.count(ann.id), 3u);
  EXPECT_FALSE(w.passkeys.find_by_credential_id(loser.credential_id()));
  EXPECT_EQ(count_kind(outbox_kinds(), "passkey_added"), 3u) << "no notice of the lost run";
}

TEST_F(PasskeysTest, ARemovalThatLostToTheSameRemovalAnswersNotFoundWithOneNotice) {
  auto g = login();
  SoftAuthenticator a;
  auto p = register_with(a, g).value();
  w.transactions.conflicts_at_commit = 1;
  w.transactions.conflict_winner = [&] {
    ASSERT_TRUE(w.auth().remove_passkey(who(g), p.id.to_string(), kClient).ok());
  };
  auto r = w.auth().remove_passkey(who(g), p.id.to_string(), kClient);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::not_found);
  EXPECT_EQ(w.passkeys.count(ann.id), 0u);
  EXPECT_EQ(count_kind(outbox_kinds(), "passkey_removed"), 1u);
}

TEST_F(PasskeyLoginTest, APasskeyLoginRunAgainOpensOneSession) {
  const auto sessions_before = w.sessions.sessions.size();
  w.transactions.conflicts_at_commit = 1;
  auto d = log_in(device);
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_EQ(w.transactions.conflicts, 1);
  EXPECT_EQ(w.sessions.sessions.size(), sessions_before + 1);
  EXPECT_TRUE(w.auth().authenticate(d.value().access_token).ok());
  EXPECT_EQ(w.users.find_by_id(ann.id)->last_login_at, w.clock.now());
}

}  // namespace
}  // namespace authd
