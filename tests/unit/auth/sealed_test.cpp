// TOTP secrets sealed with their account as associated data, and the
// start-up pass that re-seals the format before it (finding 16 of issue 17).
#include <gtest/gtest.h>
#include <sodium.h>

#include "auth/reseal.h"
#include "auth/sealed.h"
#include "auth/totp.h"
#include "fakes/service_fixture.h"

namespace authd {
namespace {

using testing::kStrongPassword;

const ClientInfo kClient{"203.0.113.7", "agent"};

class SealedTest : public ::testing::Test {
 protected:
  testing::ServiceWorld w;
  const std::string secret = std::string(totp::kSecretBytes, 'q');

  User registered(const std::string& email) {
    auto r = w.auth().register_user(email, kStrongPassword, kClient);
    EXPECT_TRUE(r.ok());
    return r.value();
  }
  void turn_on(const User& user, const std::string& sealed) {
    w.mfa.states[user.id].enabled = true;
    w.mfa.states[user.id].secret_sealed = sealed;
    w.users.users[user.id].mfa_enabled = true;
  }
  // The second step of a login with a code of `code_secret`.
  bool second_step_passes(const User& user, const std::string& code_secret) {
    auto first = w.auth().login(user.email, kStrongPassword, kClient);
    EXPECT_FALSE(first.ok());
    if (first.ok() || first.error().code != AuthErrc::mfa_required) return false;
    w.clock.advance(30);
    return w.auth()
        .mfa_verify(first.error().mfa_token,
                    totp::code_at(code_secret, totp::step_at(w.clock.now())), std::nullopt, kClient)
        .ok();
  }
};

TEST_F(SealedTest, Finding16ASealedSecretMovedToAnotherAccountDoesNotOpen) {
  const User mallory = registered("mallory@example.com");
  const User ann = registered("ann@example.com");
  // Mallory's sealed secret, written onto Ann's row by someone who can
  // write the database but has no key: Mallory's codes must not pass as Ann's.
  const std::string mallorys = seal(*w.policy.mfa_key, secret, w.random, mallory.id.as_bytes());
  turn_on(mallory, mallorys);
  turn_on(ann, mallorys);
  EXPECT_FALSE(second_step_passes(ann, secret));
  EXPECT_TRUE(second_step_passes(mallory, secret)) << "the control: on its own row it opens";
}

TEST_F(SealedTest, Finding16TheFormatIsAnAeadBoundToItsAssociatedData) {
  const SealingKey key = *w.policy.mfa_key;
  const std::string sealed = seal(key, secret, w.random, "owner-1");
  EXPECT_EQ(sealed.size(), sealed_size(secret.size()));
  EXPECT_EQ(static_cast<unsigned char>(sealed[0]), 2) << "version byte";
  EXPECT_EQ(sealed.find(secret), std::string::npos);
  EXPECT_EQ(unseal(key, sealed, "owner-1"), secret);
  EXPECT_FALSE(unseal(key, sealed, "owner-2"));
  EXPECT_FALSE(unseal(key, sealed, ""));
  std::string altered = sealed;
  altered.back() = static_cast<char>(altered.back() ^ 1);
  EXPECT_FALSE(unseal(key, altered, "owner-1"));
  SealingKey other = key;
  other[0] ^= 1;
  EXPECT_FALSE(unseal(other, sealed, "owner-1"));
  EXPECT_FALSE(unseal(key, seal_version1(key, secret, w.random), "owner-1"))
      << "serving reads the current format only";
}

TEST_F(SealedTest, Finding16TheStartupPassResealsOldRowsOnceAndTheirCodesStillWork) {
  const SealingKey key = *w.policy.mfa_key;
  const User ann = registered("ann@example.com");
  const User bob = registered("bob@example.com");
  const User cat = registered("cat@example.com");
  turn_on(ann, seal_version1(key, secret, w.random));                          // enrolled before
  w.mfa.states[bob.id].pending_sealed = seal_version1(key, secret, w.random);  // setup pending
  SealingKey lost = key;
  lost[5] ^= 0x40;
  turn_on(cat, seal_version1(lost, secret, w.random));  // under another key: unreadable
  EXPECT_FALSE(second_step_passes(ann, secret)) << "an old row is not read while serving";

  const ResealReport report = reseal_totp_secrets(w.mfa, key, w.random);
  EXPECT_EQ(report.resealed, 2u);
  EXPECT_EQ(report.unreadable, 1u);
  EXPECT_EQ(unseal(key, w.mfa.states[ann.id].secret_sealed, ann.id.as_bytes()), secret);
  EXPECT_EQ(unseal(key, w.mfa.states[bob.id].pending_sealed, bob.id.as_bytes()), secret);
  EXPECT_TRUE(second_step_passes(ann, secret)) << "the owner's codes work after the pass";

  const ResealReport again = reseal_totp_secrets(w.mfa, key, w.random);
  EXPECT_EQ(again.resealed, 0u) << "nothing left to do";
  EXPECT_EQ(again.unreadable, 1u) << "the unreadable row is left as it was";
}

}  // namespace
}  // namespace authd
