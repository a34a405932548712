#pragma once
// Time-based one-time passwords, RFC 6238 with the authenticator apps'
// defaults: HMAC-SHA-1, 6 digits, 30 s steps (codes from liboath).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ports/clock.h"

namespace authd::totp {

inline constexpr unsigned kStepSeconds = 30;
inline constexpr unsigned kDigits = 6;
inline constexpr std::size_t kSecretBytes = 20;  // 160 bits

std::int64_t step_at(UnixSeconds t);

// The code of a raw secret for a time step.
std::string code_at(std::string_view secret, std::int64_t step);

// The time step `code` belongs to, among now−1, now, now+1 (one step of
// drift either side) and later than `last_step`; compared in constant time.
std::optional<std::int64_t> matching_step(std::string_view secret, std::string_view code,
                                          UnixSeconds now, std::optional<std::int64_t> last_step);

// Upper-case base32 without padding (RFC 4648), as otpauth URIs carry it.
std::string base32(std::string_view bytes);

// otpauth://totp/ISSUER:EMAIL?secret=…&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
std::string otpauth_uri(std::string_view issuer, std::string_view email, std::string_view secret);

// Whether `code` looks like a TOTP code (six ASCII digits) rather than a
// recovery code.
bool looks_like_code(std::string_view code);

}  // namespace authd::totp
