#include "ports/email_token_store.h"
#include "ports/outbox_store.h"

namespace authd {

std::string_view purpose_name(LinkPurpose purpose) {
  switch (purpose) {
    case LinkPurpose::verify_email:
      return "verify_email";
    case LinkPurpose::reset_password:
      return "reset_password";
  }
  return "verify_email";
}

std::optional<LinkPurpose> purpose_from_name(std::string_view name) {
  if (name == "verify_email") return LinkPurpose::verify_email;
  if (name == "reset_password") return LinkPurpose::reset_password;
  return std::nullopt;
}

std::string_view mail_kind_name(MailKind kind) {
  switch (kind) {
    case MailKind::verify_email:
      return "verify_email";
    case MailKind::reset_password:
      return "reset_password";
    case MailKind::invite:
      return "invite";
    case MailKind::account_closed:
      return "account_closed";
    case MailKind::passkey_added:
      return "passkey_added";
    case MailKind::passkey_removed:
      return "passkey_removed";
    case MailKind::passkeys_reset:
      return "passkeys_reset";
  }
  return "verify_email";
}

std::optional<MailKind> mail_kind_from_name(std::string_view name) {
  for (MailKind k : kAllMailKinds) {
    if (mail_kind_name(k) == name) return k;
  }
  return std::nullopt;
}

MailKind mail_kind_for(LinkPurpose purpose) {
  return purpose == LinkPurpose::verify_email ? MailKind::verify_email : MailKind::reset_password;
}

}  // namespace authd
