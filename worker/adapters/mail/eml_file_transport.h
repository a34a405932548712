#pragma once
// MailTransport for MAIL_MODE=file (local runs): each message becomes one
// .eml file in MAIL_DIR (created 0700; files 0600, as they hold a link's
// token), written under a temporary name and renamed, so a reader never
// sees half a message. Never a log line.
#include <string>

#include "ports/clock.h"
#include "ports/mail_transport.h"
#include "ports/random.h"

namespace authd {

class EmlFileTransport final : public MailTransport {
 public:
  EmlFileTransport(std::string directory, const Clock& clock, Random& random)
      : directory_(std::move(directory)), clock_(clock), random_(random) {}

  SendResult send(std::string_view envelope_from, std::string_view recipient,
                  std::string_view message) override;

 private:
  std::string directory_;
  const Clock& clock_;
  Random& random_;
};

}  // namespace authd
