#include "auth/email.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace authd::email {
namespace {

using namespace std::string_literals;

std::string address_of(std::size_t local_octets, std::size_t total_octets) {
  // local@ + labels of 63 octets and a final shorter one, to hit an exact total.
  std::string address(local_octets, 'a');
  address += '@';
  std::size_t remaining = total_octets - address.size();
  std::string domain;
  while (remaining > 0) {
    if (!domain.empty()) {
      domain += '.';
      --remaining;
    }
    const std::size_t label = remaining > 63 ? 63 : remaining;
    domain.append(label, 'b');
    remaining -= label;
  }
  return address + domain;
}

TEST(EmailNormalise, TrimsSurroundingAsciiWhiteSpace) {
  EXPECT_EQ(normalise("  ann@example.com\t\r\n"), "ann@example.com");
  EXPECT_EQ(normalise("\v\fann@example.com"), "ann@example.com");
}

TEST(EmailNormalise, LowerCasesAsciiLetters) {
  EXPECT_EQ(normalise("Ann.SMITH@Example.COM"), "ann.smith@example.com");
}

TEST(EmailNormalise, KeepsInnerWhiteSpaceAndNonAscii) {
  EXPECT_EQ(normalise(" a b@c.d "), "a b@c.d");
  // Non-ASCII is left alone (is_valid refuses it later); only ASCII is folded.
  EXPECT_EQ(normalise("\xC3\x89L\xC3\x89@X.COM"), "\xC3\x89l\xC3\x89@x.com");
}

TEST(EmailNormalise, DoesNotTrimNonAsciiSpace) {
  // U+00A0 NO-BREAK SPACE is not ASCII white space.
  EXPECT_EQ(normalise("\xC2\xA0"
                      "a@b.co"),
            "\xC2\xA0"
            "a@b.co");
}

TEST(EmailNormalise, EmptyAndBlank) {
  EXPECT_EQ(normalise(""), "");
  EXPECT_EQ(normalise(" \t "), "");
}

TEST(EmailNormalise, KeepsNul) {
  EXPECT_EQ(normalise("a\0b@c.de"s), "a\0b@c.de"s);
}

TEST(EmailNormalise, IsIdempotent) {
  const std::string once = normalise("  Ann@Example.com ");
  EXPECT_EQ(normalise(once), once);
}

class EmailAccepted : public testing::TestWithParam<std::string> {};

TEST_P(EmailAccepted, IsValid) {
  EXPECT_TRUE(is_valid(GetParam())) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, EmailAccepted,
    testing::Values("ann@example.com", "a@b.co", "ann.smith@example.com", "ann+tag@example.com",
                    "first.middle.last@sub.domain.example.org", "!#$%&'*+-/=?^_`{|}~@example.com",
                    "a.b-c_d@e-f.g-h.ij",
                    "0123456789@123.456",  // all-digit labels are still LDH
                    "user@xn--bcher-kva.example", "user@xn--80ak6aa92e.com", "x@a-b.c",
                    "ANN@EXAMPLE.COM",  // letters of either case are ASCII letters
                    "a@" + std::string(63, 'b') + ".com", std::string(64, 'a') + "@example.com"));

class EmailRefused : public testing::TestWithParam<std::string> {};

TEST_P(EmailRefused, IsNotValid) {
  EXPECT_FALSE(is_valid(GetParam())) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, EmailRefused,
    testing::Values(
        // Shape.
        "", "@", "ann", "ann@", "@example.com", "ann@@example.com", "ann@b@example.com",
        "ann@example", "ann@localhost",  // single label
        "ann@example.com.",              // trailing dot in domain
        "ann@.example.com", "ann@example..com",
        // Local part dots.
        ".ann@example.com", "ann.@example.com", "an..n@example.com", ".@example.com",
        // Quoted and other non-atext local parts.
        "\"ann\"@example.com", "\"a b\"@example.com", "a(b)@example.com", "a,b@example.com",
        "a;b@example.com", "a:b@example.com", "a<b>@example.com", "a[b]@example.com",
        "a\\b@example.com", "a b@example.com", "ann @example.com", "ann@ example.com",
        "ann@exa mple.com", " ann@example.com", "ann@example.com ", "a\tb@example.com",
        // Non-ASCII.
        "\xC3\xA9l\xC3\xA8ve@example.com",
        "ann@b\xC3\xBC"
        "cher.example",
        "ann@\xE4\xBE\x8B\xE5\xAD\x90.com",
        // NUL anywhere.
        "a\0b@example.com"s, "ann@exa\0mple.com"s, "ann@example.com\0"s,
        // Domain labels.
        "ann@-example.com", "ann@example-.com", "ann@example.-com", "ann@example.com-",
        "ann@exa_mple.com", "ann@example.c*m", "ann@[127.0.0.1]", "ann@[IPv6:::1]",
        "ann@" + std::string(64, 'b') + ".com"));

TEST(EmailIsValid, LocalPartLength) {
  EXPECT_TRUE(is_valid(std::string(64, 'a') + "@example.com"));
  EXPECT_FALSE(is_valid(std::string(65, 'a') + "@example.com"));
  EXPECT_TRUE(is_valid("a@example.com"));
}

TEST(EmailIsValid, LabelLength) {
  EXPECT_TRUE(is_valid("a@" + std::string(63, 'b') + ".com"));
  EXPECT_FALSE(is_valid("a@" + std::string(64, 'b') + ".com"));
  EXPECT_TRUE(is_valid("a@example." + std::string(63, 'c')));
  EXPECT_FALSE(is_valid("a@example." + std::string(64, 'c')));
}

TEST(EmailIsValid, TotalLength) {
  const std::string at_limit = address_of(64, 254);
  ASSERT_EQ(at_limit.size(), 254u);
  EXPECT_TRUE(is_valid(at_limit)) << at_limit;

  const std::string over_limit = address_of(64, 255);
  ASSERT_EQ(over_limit.size(), 255u);
  EXPECT_FALSE(is_valid(over_limit)) << over_limit;

  const std::string short_local_over_limit = address_of(1, 255);
  ASSERT_EQ(short_local_over_limit.size(), 255u);
  EXPECT_FALSE(is_valid(short_local_over_limit));
}

TEST(EmailIsValid, NormalisedRegistrationInput) {
  EXPECT_TRUE(is_valid(normalise("  Ann.Smith+news@Example.COM\n")));
  EXPECT_FALSE(is_valid(normalise("  Ann Smith@Example.COM\n")));
}

}  // namespace
}  // namespace authd::email
