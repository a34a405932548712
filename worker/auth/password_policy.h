#pragma once
// Password rules of API.md ("Conventions"): NFKC first, then length in code
// points, then the strength floor (zxcvbn score with the email as user input)
// and the "email plus a few characters" rule. No composition rules
// (NIST SP 800-63B-4, ASVS 5.0 6.2.5).
#include <optional>
#include <string>
#include <string_view>

namespace authd {

struct PasswordRules {
  unsigned min_length = 8;    // code points, after NFKC
  unsigned max_length = 256;  // code points, after NFKC
  unsigned min_strength = 3;  // zxcvbn score 0..4
};

// Unicode NFKC of a UTF-8 password. nullopt when the input holds a NUL or is
// not valid UTF-8 (neither can be a password).
std::optional<std::string> nfkc_password(std::string_view utf8);

// zxcvbn's 0..4 score of `password`, with the email and its parts (local
// part, domain labels) given to the estimator as user inputs.
int password_strength(std::string_view password, std::string_view email);

// Checks a new password (already NFKC-normalised) for the account `email`
// (normalised). Returns nullopt when acceptable, otherwise the `detail`
// sentence saying which rule failed; the caller answers 422 weak_password.
std::optional<std::string> weak_password_reason(std::string_view nfkc_password,
                                                std::string_view email, const PasswordRules& rules);

}  // namespace authd
