#pragma once
// Where a finished message goes: an SMTP relay, or files (MAIL_MODE=file).
#include <string>
#include <string_view>

namespace authd {

struct SendResult {
  enum class Status {
    sent,
    // The server is away (connection refused, timed out, TLS failed) or
    // answered 4xx: try again later, after backing off.
    unavailable,
    // The server refused this message (5xx). Retried too (the operator may
    // fix the relay), with the same backoff, until the link expires.
    refused,
  };
  Status status = Status::sent;
  std::string detail;  // for the log: no message content, no credentials

  bool ok() const { return status == Status::sent; }
};

class MailTransport {
 public:
  virtual ~MailTransport() = default;

  virtual SendResult send(std::string_view envelope_from, std::string_view recipient,
                          std::string_view message) = 0;
  // Ends a kept connection (after a batch, before sleeping).
  virtual void close_connection() {}
};

}  // namespace authd
