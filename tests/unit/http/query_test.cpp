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

// The require_amr side (issue 17): order and repeats kept, a name without
// '=' told from an empty value, any broken escape reported.
TEST(Query, SplitsDecodesAndKeepsRepeats) {
  auto q = parse_query("a=1&b=%41%2c+&&c&a=");
  EXPECT_FALSE(q.malformed);
  ASSERT_EQ(q.params.size(), 4u);
  EXPECT_EQ(q.params[0].name, "a");
  EXPECT_EQ(q.params[0].value, "1");
  EXPECT_EQ(q.params[1].value, "A,+") << "a plus sign stays a plus sign";
  EXPECT_EQ(q.params[2].name, "c");
  EXPECT_FALSE(q.params[2].has_value);
  EXPECT_TRUE(q.params[3].has_value);
  EXPECT_EQ(q.params[3].value, "");
  EXPECT_EQ(q.count("a"), 2u);
  EXPECT_TRUE(parse_query("a=%").malformed);
  EXPECT_TRUE(parse_query("a=%4").malformed);
  EXPECT_TRUE(parse_query("%x1=b").malformed);
  EXPECT_TRUE(parse_query("").params.empty());
  EXPECT_FALSE(parse_query("").malformed);
}

}  // namespace
}  // namespace authd::http
