#include "ports/passkey_store.h"

namespace authd {

std::string_view challenge_purpose_name(ChallengePurpose purpose) {
  switch (purpose) {
    case ChallengePurpose::registration:
      return "register";
    case ChallengePurpose::login:
      return "login";
    case ChallengePurpose::second_factor:
      return "mfa";
  }
  return "login";
}

}  // namespace authd
