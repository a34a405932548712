#include "adapters/crypto/verified_token_memo.h"

#include <gtest/gtest.h>

#include <string>

namespace authd {
namespace {

AccessClaims claims_for(const std::string& sub) {
  AccessClaims c;
  c.sub = sub;
  c.sid = "sid-" + sub;
  c.exp = 1000;
  return c;
}

TEST(VerifiedTokenMemoTest, FindsOnlyTheExactTokenRemembered) {
  VerifiedTokenMemo memo(4);
  EXPECT_EQ(memo.find("a.b.c"), nullptr);
  memo.remember("a.b.c", claims_for("ann"));
  const AccessClaims* found = memo.find("a.b.c");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->sub, "ann");
  EXPECT_EQ(found->sid, "sid-ann");
  EXPECT_EQ(memo.find("a.b.d"), nullptr);
  EXPECT_EQ(memo.find("a.b.c "), nullptr);
  EXPECT_EQ(memo.find("a.b."), nullptr);
  EXPECT_EQ(memo.find(""), nullptr);
}

TEST(VerifiedTokenMemoTest, TheLeastRecentlyUsedMakesRoom) {
  VerifiedTokenMemo memo(3);
  memo.remember("t1", claims_for("1"));
  memo.remember("t2", claims_for("2"));
  memo.remember("t3", claims_for("3"));
  ASSERT_NE(memo.find("t1"), nullptr);  // t2 is now the least recently used
  memo.remember("t4", claims_for("4"));
  EXPECT_EQ(memo.size(), 3u);
  EXPECT_EQ(memo.find("t2"), nullptr);
  EXPECT_NE(memo.find("t1"), nullptr);
  EXPECT_NE(memo.find("t3"), nullptr);
  ASSERT_NE(memo.find("t4"), nullptr);
  EXPECT_EQ(memo.find("t4")->sub, "4");
  for (int i = 0; i < 100; ++i)
    memo.remember("x" + std::to_string(i), claims_for(std::to_string(i)));
  EXPECT_EQ(memo.size(), 3u) << "bounded";
  EXPECT_NE(memo.find("x99"), nullptr);
  EXPECT_EQ(memo.find("t4"), nullptr);
}

TEST(VerifiedTokenMemoTest, CapacityZeroRemembersNothing) {
  VerifiedTokenMemo memo(0);
  memo.remember("t1", claims_for("1"));
  EXPECT_EQ(memo.find("t1"), nullptr);
  EXPECT_EQ(memo.size(), 0u);
}

}  // namespace
}  // namespace authd
