#pragma once
// Password rules of API.md ("Conventions"): NFKC first, then length in code
// points, then the strength floor (zxcvbn score with the email as user input)
// and the "email plus a few characters" rule. No composition rules
// (NIST SP 800-63B-4, ASVS 5.0 6.2.5).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace authd {

// The `detail` for a new password that is not text at all (NUL, invalid
// UTF-8): nfkc_password gave nullopt and the caller answers 422 weak_password.
inline constexpr std::string_view kPasswordNotTextDetail =
    "Password must be text without NUL or invalid characters.";

// How much of a password the strength estimator sees, in code points.
// libzxcvbn's cost grows with the fourth power of the length on keyboard
// patterns (measured: "1212..." takes 6 ms at 32 code points, 37 ms at 48 and
// 1.2 s at 100; libzxcvbn itself details only the first 100 bytes), so only
// this prefix is scored: the worst case stays a few ms, well under one
// Argon2id hash. Only passwords longer than the prefix are judged by their
// start, and 32 code points are plenty to reach the top score.
inline constexpr std::size_t kStrengthEstimateCodePoints = 32;

struct PasswordRules {
  unsigned min_length = 8;    // code points, after NFKC
  unsigned max_length = 256;  // code points, after NFKC
  unsigned min_strength = 3;  // zxcvbn score 0..4
};

// Unicode NFKC of a UTF-8 password. nullopt when the input holds a NUL or is
// not valid UTF-8 (neither can be a password).
std::optional<std::string> nfkc_password(std::string_view utf8);

// zxcvbn's 0..4 score of `password` (its first kStrengthEstimateCodePoints
// code points), with the email and its parts (local part and its pieces
// split on . + - _, domain, domain labels) given to the estimator as user inputs.
int password_strength(std::string_view password, std::string_view email);

// Checks a new password (already NFKC-normalised) for the account `email`
// (normalised). Returns nullopt when acceptable, otherwise the `detail`
// sentence saying which rule failed; the caller answers 422 weak_password.
std::optional<std::string> weak_password_reason(std::string_view nfkc_password,
                                                std::string_view email, const PasswordRules& rules);

}  // namespace authd
