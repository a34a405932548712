#pragma once
// MailTransport over SMTP with libcurl: smtp://host:port (STARTTLS, required
// for a relay that is not on loopback: the messages carry reset links; only
// tried on loopback, or anywhere with SMTP_ALLOW_PLAINTEXT, but never
// without TLS when credentials go to another machine) or smtps://host:port
// (TLS from the first byte). Certificates
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
  bool allow_plaintext = false;  // SMTP_ALLOW_PLAINTEXT
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

  // Whether the relay is on this machine (its URL names loopback).
  static bool is_loopback_url(std::string_view url);
  // Whether an smtp:// session must upgrade with STARTTLS before anything
  // is sent (else the message is refused, not sent in clear): for every
  // relay that is not on loopback, unless plain text is explicitly allowed,
  // and even then when credentials would travel (finding 11 of issue 17).
  static bool tls_required(const SmtpSettings& settings);

 private:
  struct CurlDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
  };
  SmtpSettings settings_;
  std::unique_ptr<CURL, CurlDeleter> handle_;
};

}  // namespace authd
