#include "ports/email_token_store.h"

namespace authd {

std::string_view purpose_name(LinkPurpose purpose) {
  switch (purpose) {
    case LinkPurpose::verify_email:
      return "verify_email";
    case LinkPurpose::reset_password:
      return "reset_password";
    case LinkPurpose::passkey_added:
      return "passkey_added";
    case LinkPurpose::passkey_removed:
      return "passkey_removed";
    case LinkPurpose::passkeys_reset:
      return "passkeys_reset";
  }
  return "verify_email";
}

std::optional<LinkPurpose> purpose_from_name(std::string_view name) {
  if (name == "verify_email") return LinkPurpose::verify_email;
  if (name == "reset_password") return LinkPurpose::reset_password;
  if (name == "passkey_added") return LinkPurpose::passkey_added;
  if (name == "passkey_removed") return LinkPurpose::passkey_removed;
  if (name == "passkeys_reset") return LinkPurpose::passkeys_reset;
  return std::nullopt;
}

}  // namespace authd
