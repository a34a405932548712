#include "ports/email_token_store.h"

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

}  // namespace authd
