#include "auth/recovery_codes.h"

#include <cctype>

namespace authd::recovery_codes {
namespace {
// Crockford's base32 alphabet: no i, l, o, u to confuse.
constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr std::size_t kLetters = 12;
}  // namespace

std::vector<std::string> generate(Random& random) {
  std::vector<std::string> codes;
  for (std::size_t i = 0; i < kCount; ++i) {
    std::string raw = random.bytes(kLetters);
    std::string code;
    for (std::size_t k = 0; k < kLetters; ++k) {
      if (k > 0 && k % 4 == 0) code += '-';
      code += kAlphabet[static_cast<unsigned char>(raw[k]) & 31];
    }
    codes.push_back(std::move(code));
  }
  return codes;
}

std::string canonical(std::string_view typed) {
  std::string out;
  for (char c : typed) {
    if (c == ' ' || c == '-' || c == '\t') continue;
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool known = false;
    for (const char* a = kAlphabet; *a; ++a)
      known = known || *a == lower;
    if (!known) return {};
    out += lower;
  }
  return out.size() == kLetters ? out : std::string{};
}

}  // namespace authd::recovery_codes
