// Findings 4, 5 and 12 of issue 17, on the service over in-memory fakes:
// every check of a secret counts its attempt before judging it (so attempts
// in flight on other workers see it), and an IPv6 client counts as its /64.
// A hook in the fakes runs the "other workers'" attempts at the moment the
// first one is being judged, which is when the old code had not counted it
// yet. tests/store/lifecycle_race_test.cpp runs the same bursts for real,
// on several connections to MariaDB.
#include <gtest/gtest.h>

#include <functional>

#include "auth/sealed.h"
#include "auth/totp.h"
#include "fakes/service_fixture.h"
#include "util/cidr.h"

namespace authd {
namespace {

using testing::kStrongPassword;

const ClientInfo kClient{"203.0.113.7", "agent"};

// Runs `attempt` `n` times, each one started while the previous one is
// being judged (nested through `hook`), and counts the answers.
struct Burst {
  int judged = 0;     // 401 of some kind: the secret was judged
  int throttled = 0;  // 429
};

Burst nested_burst(int n, std::function<void()>& hook, const std::function<AuthErrc()>& attempt) {
  Burst burst;
  int started = 0;
  std::function<void()> next = [&] {
    if (started >= n) return;
    ++started;
    const AuthErrc code = attempt();
    if (code == AuthErrc::too_many_attempts) {
      ++burst.throttled;
      next();  // a refused attempt is judged at once: start the next one
    } else {
      ++burst.judged;
    }
  };
  hook = [&] { next(); };
  next();
  hook = nullptr;
  return burst;
}

// Finding 5: the first burst on a fresh email got about a pool's worth of
// extra guesses: nothing was reserved while both counters read zero.
TEST(ThrottleFindings, Finding05AFirstBurstOnAFreshEmailIsJudgedSixTimes) {
  testing::ServiceWorld w;
  const Burst burst = nested_burst(24, w.users.after_find, [&] {
    auto r = w.auth().login("fresh@example.com", "wrong-password-wrong", kClient);
    return r.error().code;
  });
  EXPECT_EQ(burst.judged, 6) << "failures 1 to 6 are judged, the 7th is refused";
  EXPECT_EQ(burst.throttled, 18);
  EXPECT_EQ(w.throttle.read("fresh@example.com", kClient.ip).pair.failures, 6u);
}

class SecondFactorBurst : public ::testing::Test {
 protected:
  testing::ServiceWorld w;
  User user;
  const std::string secret = std::string(totp::kSecretBytes, 'z');

  void SetUp() override {
    user = w.auth().register_user("ann@example.com", kStrongPassword, kClient).value();
    w.mfa.states[user.id].enabled = true;
    w.mfa.states[user.id].enabled_at = w.clock.now();
    w.mfa.states[user.id].secret_sealed =
        seal(*w.policy.mfa_key, secret, w.random, user.id.as_bytes());
    w.users.users[user.id].mfa_enabled = true;
  }
  std::string wrong_code() {
    const std::string right = totp::code_at(secret, totp::step_at(w.clock.now()));
    return right == "000000" ? "000001" : "000000";
  }
};

// Finding 4: a burst of wrong codes at the second step, once a refusal had
// expired, got 5 judged where the contract judges one.
TEST_F(SecondFactorBurst, Finding04AfterARefusalExpiresABurstOfCodesIsJudgedOnce) {
  const std::string mfa_token =
      w.auth().login("ann@example.com", kStrongPassword, kClient).error().mfa_token;
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(w.auth().mfa_verify(mfa_token, wrong_code(), std::nullopt, kClient).error().code,
              AuthErrc::invalid_mfa_code);
  }
  ASSERT_EQ(w.auth().mfa_verify(mfa_token, wrong_code(), std::nullopt, kClient).error().code,
            AuthErrc::too_many_attempts);
  w.clock.advance(31);  // the 30 s refusal is over
  const Burst burst = nested_burst(15, w.mfa.after_read, [&] {
    return w.auth().mfa_verify(mfa_token, wrong_code(), std::nullopt, kClient).error().code;
  });
  EXPECT_EQ(burst.judged, 1) << "failure 7 is judged and refuses at once";
  EXPECT_EQ(burst.throttled, 14);
}

// Finding 4: the routes that take a bearer token and a password.
TEST_F(SecondFactorBurst, Finding04ABurstOfWrongPasswordsOnTheBearerRoutesIsJudgedOnce) {
  w.mfa.states[user.id] = MfaState{};
  w.users.users[user.id].mfa_enabled = false;
  auto grant = w.auth().login("ann@example.com", kStrongPassword, kClient).value();
  const Authenticated who = w.auth().authenticate(grant.access_token).value();
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(w.auth().mfa_setup(who, "wrong-password-wrong", kClient).error().code,
              AuthErrc::invalid_credentials);
  }
  w.clock.advance(31);
  int judged = 0, throttled = 0;
  // The hasher is where a wrong password is judged: nest the next attempts there.
  struct NestingHasher final : public PasswordHasher {
    PasswordHasher& real;
    std::function<void()> during;
    explicit NestingHasher(PasswordHasher& r) : real(r) {}
    std::string hash(std::string_view p) override { return real.hash(p); }
    bool verify(std::string_view stored, std::string_view p) override {
      if (auto d = std::exchange(during, nullptr)) d();
      return real.verify(stored, p);
    }
    bool needs_rehash(std::string_view stored) override { return real.needs_rehash(stored); }
  } hasher(w.hasher);
  AuthService service(
      ServiceDeps{w.users, w.sessions, w.throttle, w.mfa, w.transactions, hasher, w.signer, w.clock,
                  w.random, w.email_tokens, w.outbox, w.mail_requests, w.passkeys},
      w.policy);
  int started = 0;
  std::function<void()> next = [&] {
    if (started >= 8) return;
    ++started;
    hasher.during = next;
    const auto r = service.mfa_setup(who, "wrong-password-wrong", kClient);
    if (r.error().code == AuthErrc::too_many_attempts) {
      ++throttled;
      hasher.during = nullptr;
      next();
    } else {
      ++judged;
    }
  };
  next();
  EXPECT_EQ(judged, 1);
  EXPECT_EQ(throttled, 7);
}

// Finding 12: per-address limits keyed IPv6 on /128.
TEST(ThrottleFindings, Finding12AnIpv6ClientCountsAsItsSlash64) {
  EXPECT_EQ(throttle_network("2001:db8:1:2::a"), "2001:db8:1:2::/64");
  EXPECT_EQ(throttle_network("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  EXPECT_EQ(throttle_network("2001:db8::1"), "2001:db8::/64");
  EXPECT_EQ(throttle_network("2001:0db8:0000:0000:ffff::1"), "2001:db8::/64");
  EXPECT_EQ(throttle_network("::ffff:192.0.2.7"), "192.0.2.7") << "an IPv4 client as itself";
  EXPECT_EQ(throttle_network("192.0.2.7"), "192.0.2.7") << "IPv4 stays /32";
  EXPECT_EQ(throttle_network("not an address"), "not an address");

  testing::ServiceWorld w;
  // Six failures, each from another address of one /64 ...
  for (int i = 1; i <= 6; ++i) {
    const ClientInfo from{"2001:db8:1:2::" + std::to_string(i), "agent"};
    ASSERT_EQ(w.auth().login("ann@example.com", "wrong-password-wrong", from).error().code,
              AuthErrc::invalid_credentials);
  }
  // ... and the seventh, from yet another, is refused: one subscriber, one budget.
  const ClientInfo seventh{"2001:db8:1:2:ffff::77", "agent"};
  EXPECT_EQ(w.auth().login("ann@example.com", "wrong-password-wrong", seventh).error().code,
            AuthErrc::too_many_attempts);
  const ClientInfo elsewhere{"2001:db8:1:3::1", "agent"};
  EXPECT_EQ(w.auth().login("ann@example.com", "wrong-password-wrong", elsewhere).error().code,
            AuthErrc::invalid_credentials)
      << "the next /64 is another client";
}

}  // namespace
}  // namespace authd
