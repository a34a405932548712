#include "http/query.h"

#include <gtest/gtest.h>

namespace authd::http {
namespace {

TEST(Query, PairsAreSplitAndPercentDecodedWithPlusKept) {
  auto q = parse_query("email=a%2Bb+c%40x.com&limit=5&&flag&cursor=");
  EXPECT_FALSE(q.malformed);
  ASSERT_EQ(q.params.size(), 4u);
  EXPECT_EQ(q.get("email"), "a+b+c@x.com");
  EXPECT_EQ(q.get("limit"), "5");
  EXPECT_EQ(q.get("flag"), "");
  EXPECT_EQ(q.get("cursor"), "");
  EXPECT_EQ(q.get("missing"), std::nullopt);
  EXPECT_EQ(q.repeated({"email", "limit"}), std::nullopt);
}

TEST(Query, RepeatsAndMalformedEscapesAreNamed) {
  EXPECT_EQ(parse_query("limit=1&email=x&limit=2").repeated({"email", "limit"}), "limit");
  EXPECT_EQ(parse_query("email=a%zz").malformed, "email");
  EXPECT_EQ(parse_query("email=a%4").malformed, "email");
  EXPECT_EQ(parse_query("email=a%").malformed, "email");
  EXPECT_EQ(parse_query("a=1&em%zzail=x").malformed, "em%zzail");
  EXPECT_EQ(percent_decode("%00%ff%41"), std::string("\0\xff"
                                                     "A",
                                                     3));
}

}  // namespace
}  // namespace authd::http
