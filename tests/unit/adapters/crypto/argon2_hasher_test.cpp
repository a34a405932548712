#include "adapters/crypto/argon2_hasher.h"

#include <gtest/gtest.h>
#include <sodium.h>

namespace authd {
namespace {

class Argon2idHasherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(Argon2idHasherTest, HashIsArgon2idPhcWithConfiguredCost) {
  Argon2idHasher hasher(1024, 2, "");
  auto phc = hasher.hash("correct horse");
  EXPECT_EQ(phc.rfind("$argon2id$v=19$m=1024,t=2,p=1$", 0), 0u) << phc;
  EXPECT_TRUE(hasher.verify(phc, "correct horse"));
  EXPECT_FALSE(hasher.verify(phc, "correct horsf"));
  EXPECT_NE(hasher.hash("correct horse"), phc) << "salted";
}

TEST_F(Argon2idHasherTest, PepperKeysThePassword) {
  Argon2idHasher peppered(1024, 1, "pepper-one");
  Argon2idHasher other(1024, 1, "pepper-two");
  Argon2idHasher none(1024, 1, "");
  auto phc = peppered.hash("pw");
  EXPECT_TRUE(peppered.verify(phc, "pw"));
  EXPECT_FALSE(other.verify(phc, "pw"));
  EXPECT_FALSE(none.verify(phc, "pw"));
}

TEST_F(Argon2idHasherTest, NeedsRehashWhenCostChanged) {
  Argon2idHasher cheap(1024, 1, "");
  Argon2idHasher dearer(2048, 1, "");
  auto phc = cheap.hash("pw");
  EXPECT_FALSE(cheap.needs_rehash(phc));
  EXPECT_TRUE(dearer.needs_rehash(phc));
  EXPECT_TRUE(dearer.verify(phc, "pw")) << "old hashes still verify";
}

TEST_F(Argon2idHasherTest, GarbageHashesNeverVerify) {
  Argon2idHasher hasher(1024, 1, "");
  EXPECT_FALSE(hasher.verify("", "pw"));
  EXPECT_FALSE(hasher.verify("$argon2id$garbage", "pw"));
  EXPECT_FALSE(hasher.verify(std::string(1000, 'x'), "pw"));
}

TEST_F(Argon2idHasherTest, PasswordsMayHoldAnyBytes) {
  Argon2idHasher hasher(1024, 1, "");
  std::string with_nul("a\0b", 3);
  auto phc = hasher.hash(with_nul);
  EXPECT_TRUE(hasher.verify(phc, with_nul));
  EXPECT_FALSE(hasher.verify(phc, "a"));
}

}  // namespace
}  // namespace authd
