#include "mail/message.h"

#include <gtest/gtest.h>

namespace authd::mail {
namespace {

Envelope sample_envelope() {
  Envelope e;
  e.from_header = "authd <noreply@auth.example.com>";
  e.from_address = "noreply@auth.example.com";
  e.to = "ann@example.com";
  e.date = 1'795'503'502;  // 2026-11-24T06:58:22Z, a Tuesday
  e.unique = "AbC-12_xyz";
  return e;
}

Letter sample_letter() {
  return Letter{"Verify your email address", "Hello,\n\nhttps://a.example/verify-email#token=T\n",
                "<p>Hello</p>\n<p><a href=\"https://a.example/verify-email#token=T\">go</a></p>\n"};
}

TEST(Rfc5322Date, Formats) {
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(1'795'503'502), "Tue, 24 Nov 2026 06:58:22 +0000");
  EXPECT_EQ(rfc5322_date(951'782'400), "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST(LinkUrl, TokenOnlyInTheFragment) {
  EXPECT_EQ(link_url("https://auth.example.com", LinkPurpose::verify_email, "abc"),
            "https://auth.example.com/verify-email#token=abc");
  EXPECT_EQ(link_url("https://auth.example.com/accounts", LinkPurpose::reset_password, "abc"),
            "https://auth.example.com/accounts/reset-password#token=abc");
}

TEST(CrlfLines, EveryLineEndBecomesCrlf) {
  EXPECT_EQ(crlf_lines("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd");
  EXPECT_EQ(crlf_lines("\n\n"), "\r\n\r\n");
  EXPECT_EQ(crlf_lines(""), "");
}

TEST(ComposeMessage, HeadersThenTwoPartsInOrder) {
  const std::string m = compose_message(sample_envelope(), sample_letter());
  const std::size_t body = m.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  const std::string headers = m.substr(0, body + 2);
  EXPECT_NE(headers.find("Date: Tue, 24 Nov 2026 06:58:22 +0000\r\n"), std::string::npos);
  EXPECT_NE(headers.find("From: authd <noreply@auth.example.com>\r\n"), std::string::npos);
  EXPECT_NE(headers.find("To: ann@example.com\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Subject: Verify your email address\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Message-ID: <AbC-12_xyz@auth.example.com>\r\n"), std::string::npos);
  EXPECT_NE(headers.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(
      headers.find("Content-Type: multipart/alternative; boundary=\"=_authd_AbC-12_xyz\"\r\n"),
      std::string::npos);

  const std::size_t plain = m.find("--=_authd_AbC-12_xyz\r\nContent-Type: text/plain");
  const std::size_t html = m.find("--=_authd_AbC-12_xyz\r\nContent-Type: text/html");
  const std::size_t end = m.find("--=_authd_AbC-12_xyz--\r\n");
  ASSERT_NE(plain, std::string::npos);
  ASSERT_NE(html, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  EXPECT_LT(plain, html);
  EXPECT_LT(html, end);
  EXPECT_EQ(end + std::string("--=_authd_AbC-12_xyz--\r\n").size(), m.size());
  // Sent as is: the link (and its token) readable in the raw message.
  EXPECT_NE(m.find("Content-Transfer-Encoding: 7bit"), std::string::npos);
  EXPECT_NE(m.find("\r\nhttps://a.example/verify-email#token=T\r\n"), std::string::npos);
}

TEST(ComposeMessage, NoBareLineFeedsAndNoLongLines) {
  const std::string m = compose_message(sample_envelope(), sample_letter());
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
    }
    if (m[i] == '\r') {
      ASSERT_TRUE(i + 1 < m.size() && m[i + 1] == '\n') << "bare CR at " << i;
    }
  }
  std::size_t start = 0;
  while (start < m.size()) {
    const std::size_t end = m.find("\r\n", start);
    ASSERT_LE(end - start, 998u);
    start = end + 2;
  }
}

TEST(ComposeMessage, NonAsciiPartsAreDeclared8bit) {
  Letter letter = sample_letter();
  letter.text =
      "Gr\xc3\xbc\xc3\x9f"
      "e\n";
  const std::string m = compose_message(sample_envelope(), letter);
  EXPECT_NE(m.find("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit"),
            std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit"),
            std::string::npos);
}

}  // namespace
}  // namespace authd::mail
