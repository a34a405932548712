#include "adapters/mail/curl_smtp_transport.h"

#include <cstring>

namespace authd {
namespace {

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// The message, handed to libcurl in pieces as it asks (DATA; libcurl does
// the dot-stuffing and the final ".").
struct Upload {
  std::string_view rest;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->rest.size());
  std::memcpy(buffer, upload->rest.data(), n);
  upload->rest.remove_prefix(n);
  return n;
}

// Appends rather than `"<" + s + ">"`: GCC 12 at -O3 reports a false
// -Wrestrict in that operator+ chain (GCC bug 105329).
std::string angle(std::string_view address) {
  std::string out;
  out.reserve(address.size() + 2);
  out.push_back('<');
  out.append(address);
  out.push_back('>');
  return out;
}

}  // namespace

CurlSmtpTransport::CurlSmtpTransport(SmtpSettings settings) : settings_(std::move(settings)) {}

bool CurlSmtpTransport::is_loopback_url(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  std::string_view host = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  host = host.substr(0, host.find('/'));
  if (host.starts_with("[")) {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.rfind(':'));
  }
  return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

bool CurlSmtpTransport::tls_required(const SmtpSettings& settings) {
  if (is_loopback_url(settings.url)) return false;
  return !settings.allow_plaintext || !settings.user.empty();
}

SendResult CurlSmtpTransport::send(std::string_view envelope_from, std::string_view recipient,
                                   std::string_view message) {
  if (!handle_) handle_.reset(curl_easy_init());
  CURL* curl = handle_.get();
  if (curl == nullptr) return {SendResult::Status::unavailable, "curl_easy_init failed"};
  // Options start afresh for each message; the connection cache stays, so
  // a batch reuses one SMTP session.
  curl_easy_reset(curl);

  const std::string from = angle(envelope_from);
  Slist recipients(curl_slist_append(nullptr, angle(recipient).c_str()));
  if (!recipients) return {SendResult::Status::unavailable, "out of memory"};
  Upload upload{message};

  curl_easy_setopt(curl, CURLOPT_URL, settings_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, settings_.connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, settings_.timeout_s);
  curl_easy_setopt(curl, CURLOPT_SERVER_RESPONSE_TIMEOUT, settings_.reply_timeout_s);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!settings_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_file.c_str());
  const bool has_credentials = !settings_.user.empty();
  if (settings_.url.starts_with("smtp://")) {
    // A reset link read on the way is an account taken: a relay elsewhere
    // must upgrade, or nothing is sent (tls_required).
    curl_easy_setopt(curl, CURLOPT_USE_SSL,
                     static_cast<long>(tls_required(settings_) ? CURLUSESSL_ALL : CURLUSESSL_TRY));
  }
  if (has_credentials) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));

  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) return {SendResult::Status::sent, {}};
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  // The detail names libcurl's error and the SMTP reply code only: the
  // server's text may quote the recipient's address.
  std::string detail = curl_easy_strerror(code);
  if (reply != 0) {
    detail.append(" (SMTP ").append(std::to_string(reply)).append(")");
  }
  const bool refused = reply >= 500 && reply < 600 && code != CURLE_LOGIN_DENIED;
  return {refused ? SendResult::Status::refused : SendResult::Status::unavailable,
          std::move(detail)};
}

}  // namespace authd
