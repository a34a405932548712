#pragma once
// The settings of the emails with links (API.md "Emails with links").
#include <string>

#include "ports/clock.h"

namespace authd {

struct MailPolicy {
  std::string public_base_url = "https://localhost:8443";  // links: base + /verify-email#token=...
  std::string mail_from = "authd <noreply@localhost>";     // the From header
  std::string mail_from_address = "noreply@localhost";     // its address (Message-ID domain)
  UnixSeconds verify_token_ttl_s = 86400;
  UnixSeconds reset_token_ttl_s = 1800;
  // An admin's invitation: a reset link that sets the first password.
  UnixSeconds invite_token_ttl_s = 604800;
  // Resend and forgot together, per account per rolling hour (the
  // registration's message does not count).
  unsigned cap_per_hour = 5;
  // Resend and forgot requests waiting for the mailer, at most
  // (MAIL_REQUEST_QUEUE_MAX): beyond it a request is dropped (still 202).
  unsigned request_queue_max = 1000;
  bool require_verified_email = false;
};

}  // namespace authd
