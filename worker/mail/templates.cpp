#include "mail/templates.h"

#include <stdexcept>

namespace authd::mail {
namespace {

std::string_view template_text(std::string_view name) {
  for (const auto& t : embedded_templates()) {
    if (t.name == name) return t.text;
  }
  throw std::logic_error("mail template missing: " + std::string(name));
}

std::string base_name(MailKind kind) {
  return std::string(mail_kind_name(kind));
}

std::string plural(long long n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string fill_template(std::string_view text, const LetterValues& values, bool html) {
  std::string out;
  out.reserve(text.size() + 256);
  std::size_t at = 0;
  while (true) {
    const std::size_t open = text.find("{{", at);
    if (open == std::string_view::npos) {
      out.append(text.substr(at));
      return out;
    }
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) throw std::logic_error("mail template: unclosed {{");
    out.append(text.substr(at, open - at));
    const std::string_view name = text.substr(open + 2, close - open - 2);
    const std::string* value = nullptr;
    if (name == "link") {
      value = &values.link;
    } else if (name == "email") {
      value = &values.email;
    } else if (name == "valid_for") {
      value = &values.valid_for;
    } else if (name == "passkey") {
      value = &values.passkey;
    } else if (name == "when") {
      value = &values.when;
    } else {
      throw std::logic_error("mail template: unknown placeholder {{" + std::string(name) + "}}");
    }
    out += html ? html_escape(*value) : *value;
    at = close + 2;
  }
}

Letter render_letter(MailKind kind, const LetterValues& values) {
  const std::string name = base_name(kind);
  const std::string_view text = template_text(name + ".txt");
  constexpr std::string_view kSubject = "Subject: ";
  const std::size_t first_end = text.find('\n');
  if (!text.starts_with(kSubject) || first_end == std::string_view::npos ||
      text.substr(first_end + 1, 1) != "\n") {
    throw std::logic_error("mail template " + name + ".txt: must start with a Subject line");
  }
  Letter letter;
  letter.subject = std::string(text.substr(kSubject.size(), first_end - kSubject.size()));
  letter.text = fill_template(text.substr(first_end + 2), values, false);
  letter.html = fill_template(template_text(name + ".html"), values, true);
  return letter;
}

std::string lifetime_in_words(long long seconds) {
  if (seconds >= 2 * 86400 && seconds % 86400 == 0) return plural(seconds / 86400, "day");
  if (seconds >= 3600 && seconds % 3600 == 0) return plural(seconds / 3600, "hour");
  if (seconds >= 60 && seconds % 60 == 0) return plural(seconds / 60, "minute");
  return plural(seconds, "second");
}

}  // namespace authd::mail
