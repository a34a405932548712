#include "auth/link_token.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <set>

#include "adapters/crypto/sodium_random.h"

namespace authd {
namespace {

TEST(LinkToken, Is256RandomBitsInUrlSafeBase64) {
  ASSERT_GE(sodium_init(), 0);
  SodiumRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string token = new_link_token(random);
    EXPECT_EQ(token.size(), 43u);  // 32 bytes, unpadded
    EXPECT_TRUE(is_link_token_shape(token)) << token;
    EXPECT_EQ(
        token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(LinkToken, ShapeCheckRefusesEverythingElse) {
  EXPECT_FALSE(is_link_token_shape(""));
  EXPECT_FALSE(is_link_token_shape(std::string(42, 'A')));
  EXPECT_FALSE(is_link_token_shape(std::string(44, 'A')));
  EXPECT_FALSE(is_link_token_shape(std::string(42, 'A') + "="));
  EXPECT_FALSE(is_link_token_shape(std::string(42, 'A') + "+"));
  EXPECT_FALSE(is_link_token_shape(std::string(42, 'A') + "/"));
  EXPECT_FALSE(is_link_token_shape(std::string(42, 'A') + '\0'));
  EXPECT_TRUE(is_link_token_shape(std::string(43, '-')));
}

TEST(LinkToken, OnlyTheSha256IsKept) {
  // SHA-256("abc"), FIPS 180-2.
  const std::string digest = link_token_digest("abc");
  ASSERT_EQ(digest.size(), 32u);
  static const unsigned char kExpected[] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                            0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                            0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                            0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  EXPECT_EQ(digest, std::string(reinterpret_cast<const char*>(kExpected), 32));
}

}  // namespace
}  // namespace authd
