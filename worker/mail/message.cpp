#include "mail/message.h"

#include <cstdio>
#include <ctime>

namespace authd::mail {
namespace {

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void append_part(std::string& out, std::string_view boundary, std::string_view media_type,
                 std::string_view body) {
  const std::string lines = crlf_lines(body);
  out += "--";
  out += boundary;
  out += "\r\nContent-Type: ";
  out += media_type;
  out += "; charset=utf-8\r\nContent-Transfer-Encoding: ";
  out += is_ascii(lines) ? "7bit" : "8bit";
  out += "\r\n\r\n";
  out += lines;
  if (!lines.ends_with("\r\n")) out += "\r\n";
}

std::string domain_of(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string("localhost")
                                      : std::string(address.substr(at + 1));
}

}  // namespace

std::string crlf_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 40 + 2);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string rfc5322_date(UnixSeconds when) {
  const std::time_t t = static_cast<std::time_t>(when);
  std::tm utc{};
  gmtime_r(&t, &utc);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return text;
}

std::string link_url(std::string_view public_base_url, LinkPurpose purpose,
                     std::string_view token) {
  std::string url(public_base_url);
  url += purpose == LinkPurpose::verify_email ? "/verify-email#token=" : "/reset-password#token=";
  url += token;
  return url;
}

std::string compose_message(const Envelope& envelope, const Letter& letter) {
  // The boundary cannot occur in the parts: they are templates and values
  // with no "=_authd_" in them ('=' is not base64url, so not in `unique`).
  const std::string boundary = "=_authd_" + envelope.unique;
  std::string out;
  out.reserve(letter.text.size() + letter.html.size() + 1024);
  out += "Date: " + rfc5322_date(envelope.date) + "\r\n";
  out += "From: " + envelope.from_header + "\r\n";
  out += "To: " + envelope.to + "\r\n";
  out += "Subject: " + letter.subject + "\r\n";
  out += "Message-ID: <" + envelope.unique + "@" + domain_of(envelope.from_address) + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  // RFC 3834: tells vacation responders not to answer.
  out += "Auto-Submitted: auto-generated\r\n";
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  out += "\r\n";
  out += "This is a message in MIME format: a plain-text and an HTML version.\r\n";
  append_part(out, boundary, "text/plain", letter.text);
  append_part(out, boundary, "text/html", letter.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace authd::mail
