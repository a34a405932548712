#pragma once
// The message templates (worker/mail/templates/, compiled into the binary)
// and how they are filled in.
//
// Each kind of message has NAME.txt (first line `Subject: ...`, a blank
// line, then the plain-text body) and NAME.html (the HTML body), NAME being
// mail_kind_name(). Placeholders are {{link}}, {{email}}, {{valid_for}},
// {{passkey}} (a passkey's name) and {{when}} (an RFC 3339 time); in the
// HTML part every value is HTML-escaped. A notice without a link (a closed
// account's, a passkey's) uses what it needs of them.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/outbox_store.h"

namespace authd::mail {

struct EmbeddedTemplate {
  std::string_view name;  // "verify_email.txt"
  std::string_view text;
};
// Generated at build time (cmake/embed_mail_templates.cmake).
const std::vector<EmbeddedTemplate>& embedded_templates();

struct LetterValues {
  std::string link;
  std::string email;
  std::string valid_for;  // "24 hours"
  std::string passkey;    // the notices of passkeys: its name
  std::string when;       // ... and when it happened
};

// What a message says, before it becomes MIME.
struct Letter {
  std::string subject;
  std::string text;  // LF line ends
  std::string html;  // LF line ends
};

// The letter of a kind of message; throws std::logic_error if its templates
// are missing or malformed (a build defect, caught by the unit tests).
Letter render_letter(MailKind kind, const LetterValues& values);

// Replaces every {{name}} with its value, each value passed through
// `escape`. An unknown placeholder throws std::logic_error.
std::string fill_template(std::string_view text, const LetterValues& values, bool html);

std::string html_escape(std::string_view text);

// A lifetime in words: "24 hours", "30 minutes", "1 hour", "90 seconds".
std::string lifetime_in_words(long long seconds);

}  // namespace authd::mail
