#pragma once
// MailTransport over SMTP with libcurl: smtp://host:port (STARTTLS when the
// server offers it; required when credentials go to a host that is not
// loopback) or smtps://host:port (TLS from the first byte). Certificates
// are verified (system store, or SMTP_CA_FILE), TLS 1.2 at least. The
// connection is kept between the messages of a batch.
#include <curl/curl.h>

#include <memory>
#include <string>

#include "ports/mail_transport.h"

namespace authd {

struct SmtpSettings {
  std::string url;  // smtp://host[:port] or smtps://host[:port]
  std::string user;
  std::string password;
  std::string ca_file;
  // A message is a few kilobytes: any working relay takes it in a second or
  // two. The whole send stays well within the outbox lease
  // (mail::kSendLeaseS), after which another mailer may send it again.
  long connect_timeout_s = 5;
  long timeout_s = 20;        // a whole message, DATA included
  long reply_timeout_s = 10;  // one SMTP reply (a relay that accepts and then says nothing)
};

class CurlSmtpTransport final : public MailTransport {
 public:
  explicit CurlSmtpTransport(SmtpSettings settings);

  SendResult send(std::string_view envelope_from, std::string_view recipient,
                  std::string_view message) override;
  void close_connection() override { handle_.reset(); }

  // Whether credentials may go over a connection that did not upgrade to
  // TLS: only to a relay on this machine.
  static bool is_loopback_url(std::string_view url);

 private:
  struct CurlDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
  };
  SmtpSettings settings_;
  std::unique_ptr<CURL, CurlDeleter> handle_;
};

}  // namespace authd
