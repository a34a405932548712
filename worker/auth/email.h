#pragma once
// Email addresses as API.md ("Conventions") defines them.
#include <string>
#include <string_view>

namespace authd::email {

// Trim surrounding ASCII white space, lower-case ASCII letters. What login,
// password change, resend and forgot do (no format check there).
std::string normalise(std::string_view raw);

// Registration rule on an already normalised address: at most 254 octets,
// one '@', dot-atom local part of 1..64 octets, domain of >= 2 LDH labels.
bool is_valid(std::string_view normalised);

}  // namespace authd::email
