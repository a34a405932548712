#include "auth/totp.h"

#include <gtest/gtest.h>

#include "auth/recovery_codes.h"
#include "fakes/fakes.h"

namespace authd {
namespace {

// RFC 6238 appendix B, SHA-1, with the last six of the eight digits.
const std::string kRfcSecret = "12345678901234567890";

TEST(Totp, ReproducesTheRfc6238Vectors) {
  struct Vector {
    UnixSeconds t;
    const char* code;
  };
  for (auto [t, code] : {Vector{59, "287082"}, Vector{1111111109, "081804"},
                         Vector{1111111111, "050471"}, Vector{1234567890, "005924"},
                         Vector{2000000000, "279037"}, Vector{20000000000, "353130"}}) {
    EXPECT_EQ(totp::code_at(kRfcSecret, totp::step_at(t)), code) << t;
  }
}

TEST(Totp, AcceptsOneStepOfDriftEitherSide) {
  const UnixSeconds now = 1'800'000'015;
  const auto step = totp::step_at(now);
  for (std::int64_t s : {step - 1, step, step + 1}) {
    EXPECT_EQ(totp::matching_step(kRfcSecret, totp::code_at(kRfcSecret, s), now, std::nullopt), s);
  }
  for (std::int64_t s : {step - 2, step + 2}) {
    EXPECT_FALSE(totp::matching_step(kRfcSecret, totp::code_at(kRfcSecret, s), now, std::nullopt));
  }
}

TEST(Totp, RefusesAStepAlreadyAcceptedOrEarlier) {
  const UnixSeconds now = 1'800'000'015;
  const auto step = totp::step_at(now);
  const auto code = totp::code_at(kRfcSecret, step);
  EXPECT_FALSE(totp::matching_step(kRfcSecret, code, now, step)) << "a replay in its window";
  EXPECT_FALSE(totp::matching_step(kRfcSecret, code, now, step + 1));
  EXPECT_EQ(totp::matching_step(kRfcSecret, code, now, step - 1), step);
}

TEST(Totp, RefusesWhatIsNotSixDigits) {
  const UnixSeconds now = 1'800'000'015;
  for (const char* bad : {"", "12345", "1234567", "12345a", " 12345", "１２３４５６"}) {
    EXPECT_FALSE(totp::matching_step(kRfcSecret, bad, now, std::nullopt)) << bad;
    EXPECT_FALSE(totp::looks_like_code(bad));
  }
}

TEST(Totp, Base32AndTheOtpauthUri) {
  EXPECT_EQ(totp::base32("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(totp::base32(kRfcSecret), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  EXPECT_EQ(totp::otpauth_uri("Example Corp", "ann+x@example.com", kRfcSecret),
            "otpauth://totp/Example%20Corp:ann%2Bx@example.com?secret="
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example%20Corp&algorithm=SHA1&digits=6&"
            "period=30");
}

TEST(RecoveryCodes, TenDistinctCodesInGroupsOfFour) {
  testing::SeededRandom random;
  auto codes = recovery_codes::generate(random);
  ASSERT_EQ(codes.size(), 10u);
  for (const auto& c : codes) {
    EXPECT_EQ(c.size(), 14u) << c;
    EXPECT_EQ(c[4], '-');
    EXPECT_EQ(c[9], '-');
    EXPECT_EQ(recovery_codes::canonical(c).size(), 12u);
  }
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(std::adjacent_find(codes.begin(), codes.end()), codes.end());
}

TEST(RecoveryCodes, ComparedIgnoringCaseSpacesAndHyphens) {
  EXPECT_EQ(recovery_codes::canonical("ABCD-EFGH-JKMN"), "abcdefghjkmn");
  EXPECT_EQ(recovery_codes::canonical(" abcd efgh jkmn "), "abcdefghjkmn");
  EXPECT_EQ(recovery_codes::canonical("abcdefghjkmn"), "abcdefghjkmn");
  EXPECT_EQ(recovery_codes::canonical("abcd-efgh-jkm"), "") << "too short";
  EXPECT_EQ(recovery_codes::canonical("abcd-efgh-jkmu"), "") << "u is not in the alphabet";
  EXPECT_EQ(recovery_codes::canonical("123456"), "");
}

}  // namespace
}  // namespace authd
