#include "util/cidr.h"

#include <gtest/gtest.h>

namespace authd {
namespace {

TEST(CidrSet, LoopbackDefaults) {
  auto set = CidrSet::parse({"127.0.0.1/32", "::1/128"});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains("127.0.0.1"));
  EXPECT_TRUE(set->contains("::1"));
  EXPECT_TRUE(set->contains("::ffff:127.0.0.1")) << "IPv4-mapped";
  EXPECT_FALSE(set->contains("127.0.0.2"));
  EXPECT_FALSE(set->contains("10.0.0.1"));
  EXPECT_FALSE(set->contains("::2"));
}

TEST(CidrSet, PrefixesOnAndOffByteBoundaries) {
  auto set = CidrSet::parse({"10.0.0.0/8", "192.168.4.0/22", "2001:db8::/33"});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains("10.255.1.2"));
  EXPECT_FALSE(set->contains("11.0.0.1"));
  EXPECT_TRUE(set->contains("192.168.7.255"));
  EXPECT_FALSE(set->contains("192.168.8.0"));
  EXPECT_FALSE(set->contains("192.168.3.255"));
  EXPECT_TRUE(set->contains("2001:db8:7fff::1"));
  EXPECT_FALSE(set->contains("2001:db8:8000::1"));
  EXPECT_FALSE(set->contains("10.0.0.1.5"));
}

TEST(CidrSet, ZeroPrefixMatchesItsFamilyOnly) {
  auto set = CidrSet::parse({"0.0.0.0/0"});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains("203.0.113.7"));
  EXPECT_FALSE(set->contains("2001:db8::1"));
}

TEST(CidrSet, AnAddressWithoutPrefixIsOneHost) {
  auto set = CidrSet::parse({"203.0.113.7"});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains("203.0.113.7"));
  EXPECT_FALSE(set->contains("203.0.113.8"));
}

TEST(CidrSet, JunkIsNeitherParsedNorContained) {
  EXPECT_FALSE(CidrSet::parse({"localhost"}));
  EXPECT_FALSE(CidrSet::parse({"10.0.0.0/33"}));
  EXPECT_FALSE(CidrSet::parse({"10.0.0.0/"}));
  EXPECT_FALSE(CidrSet::parse({"10.0.0.0/8x"}));
  auto set = CidrSet::parse({"0.0.0.0/0", "::/0"});
  ASSERT_TRUE(set);
  EXPECT_FALSE(set->contains(""));
  EXPECT_FALSE(set->contains("unix:"));
  EXPECT_FALSE(set->contains(std::string(100, '1')));
  EXPECT_TRUE(CidrSet().empty());
  EXPECT_FALSE(CidrSet().contains("127.0.0.1"));
}

}  // namespace
}  // namespace authd
