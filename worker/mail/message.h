#pragma once
// A finished email: RFC 5322 headers and a MIME multipart/alternative body
// (plain text first, then HTML), CRLF line ends, ready for SMTP's DATA.
//
// Parts are sent as they are (7bit, or 8bit if a template holds non-ASCII):
// no quoted-printable or base64, so the link, token included, appears in
// the raw message exactly as it is meant to be opened.
#include <string>
#include <string_view>

#include "mail/templates.h"
#include "ports/clock.h"
#include "ports/email_token_store.h"

namespace authd::mail {

struct Envelope {
  std::string from_header;   // MAIL_FROM as configured: "Name <addr>" or "addr"
  std::string from_address;  // its address: the Message-ID's domain comes from it
  std::string to;            // the recipient's address
  UnixSeconds date = 0;      // the Date header
  std::string unique;        // random URL-safe text: Message-ID and MIME boundary
};

std::string compose_message(const Envelope& envelope, const Letter& letter);

// RFC 5322 date-time in UTC: "Tue, 24 Nov 2026 06:18:22 +0000".
std::string rfc5322_date(UnixSeconds when);

// PUBLIC_BASE_URL + "/verify-email#token=..." or "/reset-password#token=...":
// the token only in the fragment, which browsers never send to a server.
std::string link_url(std::string_view public_base_url, LinkPurpose purpose, std::string_view token);

// LF or CRLF → CRLF, and a lone CR too, so no bare line end reaches SMTP.
std::string crlf_lines(std::string_view text);

}  // namespace authd::mail
