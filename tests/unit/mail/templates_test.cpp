#include "mail/templates.h"

#include <gtest/gtest.h>

#include <iterator>
#include <set>
#include <stdexcept>

namespace authd::mail {
namespace {

LetterValues sample_values() {
  return {"https://auth.example.com/verify-email#token=abc_DEF-123", "ann@example.com", "24 hours",
          "", ""};
}

TEST(MailTemplates, EveryLinkMessageHasBothPartsAndASubject) {
  for (MailKind kind : {MailKind::verify_email, MailKind::reset_password, MailKind::invite}) {
    const Letter letter = render_letter(kind, sample_values());
    EXPECT_FALSE(letter.subject.empty());
    EXPECT_EQ(letter.subject.find('\n'), std::string::npos);
    // The link, whole, in both parts (in the HTML part as an href).
    EXPECT_NE(letter.text.find("\nhttps://auth.example.com/verify-email#token=abc_DEF-123\n"),
              std::string::npos);
    EXPECT_NE(letter.html.find("href=\"https://auth.example.com/verify-email#token=abc_DEF-123\""),
              std::string::npos);
    EXPECT_NE(letter.text.find("ann@example.com"), std::string::npos);
    EXPECT_NE(letter.text.find("24 hours"), std::string::npos);
    EXPECT_EQ(letter.text.find("{{"), std::string::npos);
    EXPECT_EQ(letter.html.find("{{"), std::string::npos);
  }
  EXPECT_EQ(render_letter(MailKind::verify_email, sample_values()).subject,
            "Verify your email address");
  EXPECT_EQ(render_letter(MailKind::reset_password, sample_values()).subject,
            "Reset your password");
  EXPECT_EQ(render_letter(MailKind::invite, sample_values()).subject,
            "You have been invited: choose your password");
}

TEST(MailTemplates, TheClosedAccountNoticeNamesTheAddressAndCarriesNoLink) {
  const Letter letter =
      render_letter(MailKind::account_closed, {"", "ann@example.com", "", "", ""});
  EXPECT_EQ(letter.subject, "Your account was closed");
  EXPECT_NE(letter.text.find("ann@example.com"), std::string::npos);
  EXPECT_NE(letter.html.find("ann@example.com"), std::string::npos);
  EXPECT_EQ(letter.text.find("http"), std::string::npos);
  EXPECT_EQ(letter.html.find("href"), std::string::npos);
}

TEST(MailKinds, NamesReadBackAndEveryKindHasItsTemplates) {
  std::set<std::string_view> names;
  for (MailKind kind : kAllMailKinds) {
    EXPECT_EQ(mail_kind_from_name(mail_kind_name(kind)), kind);
    names.insert(mail_kind_name(kind));
    const Letter letter = render_letter(kind, sample_values());
    EXPECT_FALSE(letter.subject.empty()) << mail_kind_name(kind);
    EXPECT_FALSE(letter.text.empty()) << mail_kind_name(kind);
    EXPECT_FALSE(letter.html.empty()) << mail_kind_name(kind);
  }
  EXPECT_EQ(names.size(), std::size(kAllMailKinds)) << "one stored name per kind";
  EXPECT_EQ(embedded_templates().size(), 2 * std::size(kAllMailKinds))
      << "a .txt and an .html per kind, and no template of no kind";
  EXPECT_EQ(mail_kind_from_name("nothing"), std::nullopt);
  EXPECT_EQ(mail_kind_for(LinkPurpose::reset_password), MailKind::reset_password);
  EXPECT_EQ(mail_kind_for(LinkPurpose::verify_email), MailKind::verify_email);
}

TEST(MailTemplates, PasskeyNoticesNameThePasskeyTheAccountAndTheTime) {
  const LetterValues v{"https://auth.example.com", "ann@example.com", "", "Laptop <b>",
                       "2026-11-24T06:18:22Z"};
  for (MailKind kind :
       {MailKind::passkey_added, MailKind::passkey_removed, MailKind::passkeys_reset}) {
    const Letter letter = render_letter(kind, v);
    EXPECT_NE(letter.subject.find("passkey"), std::string::npos) << letter.subject;
    for (const std::string* part : {&letter.text, &letter.html}) {
      EXPECT_NE(part->find("ann@example.com"), std::string::npos);
      EXPECT_NE(part->find("2026-11-24T06:18:22Z"), std::string::npos);
      EXPECT_NE(part->find("https://auth.example.com"), std::string::npos);
      EXPECT_EQ(part->find("{{"), std::string::npos);
    }
    EXPECT_NE(letter.text.find("Laptop <b>"), std::string::npos);
    EXPECT_NE(letter.html.find("Laptop &lt;b&gt;"), std::string::npos);
  }
}

TEST(MailTemplates, AreAsciiWithShortLines) {
  // 7bit parts, and room for a 512-byte PUBLIC_BASE_URL in a link line.
  ASSERT_GE(embedded_templates().size(), 4u);
  for (const auto& t : embedded_templates()) {
    std::size_t line = 0;
    for (char c : t.text) {
      EXPECT_LT(static_cast<unsigned char>(c), 0x80) << t.name;
      EXPECT_NE(c, '\r') << t.name;
      line = c == '\n' ? 0 : line + 1;
      EXPECT_LE(line, 200u) << t.name;
    }
  }
}

TEST(FillTemplate, EscapesValuesInHtmlOnly) {
  LetterValues v{"https://x.example/a?b=1&c=<2>", "o'neil@example.com", "1 hour", "", ""};
  EXPECT_EQ(fill_template("{{link}} {{email}}", v, false),
            "https://x.example/a?b=1&c=<2> o'neil@example.com");
  EXPECT_EQ(fill_template("{{link}} {{email}}", v, true),
            "https://x.example/a?b=1&amp;c=&lt;2&gt; o&#39;neil@example.com");
}

TEST(FillTemplate, UnknownOrUnclosedPlaceholdersAreDefects) {
  EXPECT_THROW(fill_template("{{password}}", sample_values(), false), std::logic_error);
  EXPECT_THROW(fill_template("{{link", sample_values(), false), std::logic_error);
  EXPECT_EQ(fill_template("no placeholders {", sample_values(), false), "no placeholders {");
}

TEST(LifetimeInWords, ReadsNaturally) {
  EXPECT_EQ(lifetime_in_words(86400), "24 hours");
  EXPECT_EQ(lifetime_in_words(2 * 86400), "2 days");
  EXPECT_EQ(lifetime_in_words(1800), "30 minutes");
  EXPECT_EQ(lifetime_in_words(3600), "1 hour");
  EXPECT_EQ(lifetime_in_words(60), "1 minute");
  EXPECT_EQ(lifetime_in_words(90), "90 seconds");
  EXPECT_EQ(lifetime_in_words(1), "1 second");
  EXPECT_EQ(lifetime_in_words(5400), "90 minutes");
}

}  // namespace
}  // namespace authd::mail
