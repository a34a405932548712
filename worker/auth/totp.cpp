#include "auth/totp.h"

#include <liboath/oath.h>
#include <sodium.h>

#include <cctype>
#include <mutex>
#include <stdexcept>

namespace authd::totp {
namespace {

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (oath_init() != OATH_OK) throw std::runtime_error("liboath could not initialise");
  });
}

// RFC 3986 unreserved characters stay; everything else is %XX.
std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::int64_t step_at(UnixSeconds t) {
  return t / kStepSeconds;
}

std::string code_at(std::string_view secret, std::int64_t step) {
  init_once();
  char out[kDigits + 1] = {0};
  int rc =
      oath_totp_generate2(secret.data(), secret.size(), static_cast<time_t>(step * kStepSeconds),
                          kStepSeconds, 0, kDigits, 0, out);
  if (rc != OATH_OK) throw std::runtime_error("liboath could not make a TOTP code");
  return std::string(out, kDigits);
}

std::optional<std::int64_t> matching_step(std::string_view secret, std::string_view code,
                                          UnixSeconds now, std::optional<std::int64_t> last_step) {
  if (!looks_like_code(code)) return std::nullopt;
  const std::int64_t current = step_at(now);
  std::optional<std::int64_t> found;
  // Every candidate is computed and compared, whatever matched, so the time
  // taken says nothing about which step (if any) it was.
  for (std::int64_t step = current - 1; step <= current + 1; ++step) {
    const std::string expected = code_at(secret, step);
    const bool equal = sodium_memcmp(expected.data(), code.data(), kDigits) == 0;
    const bool fresh = !last_step || step > *last_step;
    if (equal && fresh && !found) found = step;
  }
  return found;
}

std::string base32(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = buffer << 8 | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string otpauth_uri(std::string_view issuer, std::string_view email, std::string_view secret) {
  const std::string iss = percent_encode(issuer);
  return "otpauth://totp/" + iss + ":" + percent_encode(email) + "?secret=" + base32(secret) +
         "&issuer=" + iss + "&algorithm=SHA1&digits=6&period=30";
}

bool looks_like_code(std::string_view code) {
  if (code.size() != kDigits) return false;
  for (char c : code)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace authd::totp
