#include "auth/password_policy.h"

#include <utf8proc.h>
#include <zxcvbn.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

namespace authd {
namespace {

struct FreeDeleter {
  void operator()(void* allocated) const noexcept { std::free(allocated); }
};
// utf8proc hands back malloc'd buffers.
using Utf8procBuffer = std::unique_ptr<utf8proc_uint8_t, FreeDeleter>;

const utf8proc_uint8_t* as_utf8proc(std::string_view text) {
  return reinterpret_cast<const utf8proc_uint8_t*>(text.data());
}

using CodePoints = std::vector<utf8proc_int32_t>;

// nullopt for invalid UTF-8 (surrogates and overlong forms included) or a NUL.
std::optional<CodePoints> decode(std::string_view utf8) {
  CodePoints decoded;
  decoded.reserve(utf8.size());
  const utf8proc_uint8_t* cursor = as_utf8proc(utf8);
  auto remaining = static_cast<utf8proc_ssize_t>(utf8.size());
  while (remaining > 0) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t consumed = utf8proc_iterate(cursor, remaining, &code_point);
    if (consumed <= 0 || code_point == 0) return std::nullopt;
    decoded.push_back(code_point);
    cursor += consumed;
    remaining -= consumed;
  }
  return decoded;
}

// Simple (one-to-one) lower-casing is what "without regard to case" needs
// here: the email side is ASCII, and NFKC already folded compatibility forms
// such as the Kelvin sign.
CodePoints lower_cased(CodePoints code_points) {
  for (auto& code_point : code_points)
    code_point = utf8proc_tolower(code_point);
  return code_points;
}

// The byte length of the first `limit` code points. Counts lead bytes rather
// than decoding, so it cannot fail on whatever it is given.
std::size_t prefix_bytes(std::string_view utf8, std::size_t limit) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const bool continuation = (static_cast<unsigned char>(utf8[i]) & 0xC0) == 0x80;
    if (!continuation && seen++ == limit) return i;
  }
  return utf8.size();
}

void add_unique(std::vector<std::string>& words, std::string_view word) {
  if (word.empty()) return;
  if (std::find(words.begin(), words.end(), word) == words.end()) words.emplace_back(word);
}

void add_pieces(std::vector<std::string>& words, std::string_view text,
                std::string_view separators) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find_first_of(separators, start);
    if (end == std::string_view::npos) end = text.size();
    add_unique(words, text.substr(start, end - start));
    start = end + 1;
  }
}

// What the estimator should treat as already known to an attacker who knows
// the address: people build passwords from their name and their employer.
std::vector<std::string> email_user_inputs(std::string_view email) {
  std::vector<std::string> words;
  add_unique(words, email);
  const std::size_t at = email.rfind('@');
  if (at == std::string_view::npos) return words;
  const std::string_view local = email.substr(0, at);
  const std::string_view domain = email.substr(at + 1);
  add_unique(words, local);
  add_pieces(words, local, ".+-_");
  add_unique(words, domain);
  add_pieces(words, domain, ".");
  return words;
}

// zxcvbn's own scale (NOTES-deps.md): guesses = 10^(bits * log10 2).
int score_from_entropy_bits(double bits) {
  const double log10_guesses = bits * std::log10(2.0);
  if (log10_guesses < 3) return 0;
  if (log10_guesses < 6) return 1;
  if (log10_guesses < 8) return 2;
  if (log10_guesses < 10) return 3;
  return 4;
}

bool contains_at(const CodePoints& haystack, const CodePoints& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

// "The whole email or its local part with at most 4 characters added before
// or after", both compared lower-cased.
constexpr std::size_t kMaxCharactersAddedToEmail = 4;

bool is_email_plus_a_few(const CodePoints& lowered_password, std::string_view target) {
  const auto decoded_target = decode(target);
  if (!decoded_target || decoded_target->empty()) return false;
  const CodePoints lowered_target = lower_cased(*decoded_target);
  if (lowered_password.size() < lowered_target.size()) return false;
  if (lowered_password.size() - lowered_target.size() > kMaxCharactersAddedToEmail) return false;
  return contains_at(lowered_password, lowered_target);
}

}  // namespace

std::optional<std::string> nfkc_password(std::string_view utf8) {
  // utf8proc_map, given a length, treats NUL as an ordinary character.
  if (utf8.find('\0') != std::string_view::npos) return std::nullopt;
  utf8proc_uint8_t* mapped = nullptr;
  // The options utf8proc_NFKC uses, with an explicit length so the view needs
  // no NUL-terminated copy. Invalid UTF-8, surrogates and overlong forms
  // included, come back as UTF8PROC_ERROR_INVALIDUTF8 (checked in the tests).
  const utf8proc_ssize_t length = utf8proc_map(
      as_utf8proc(utf8), static_cast<utf8proc_ssize_t>(utf8.size()), &mapped,
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
  const Utf8procBuffer owned(mapped);
  if (length == UTF8PROC_ERROR_NOMEM) throw std::bad_alloc();
  if (length < 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(owned.get()), static_cast<std::size_t>(length));
}

int password_strength(std::string_view password, std::string_view email) {
  // ZxcvbnMatch reads a C string, so a NUL would end it early anyway.
  const std::string_view up_to_nul = password.substr(0, password.find('\0'));
  const std::string scored(
      up_to_nul.substr(0, prefix_bytes(up_to_nul, kStrengthEstimateCodePoints)));

  const std::vector<std::string> user_inputs = email_user_inputs(email);
  std::vector<const char*> user_dictionary;
  user_dictionary.reserve(user_inputs.size() + 1);
  for (const auto& word : user_inputs)
    user_dictionary.push_back(word.c_str());
  user_dictionary.push_back(nullptr);

  const double bits = ZxcvbnMatch(scored.c_str(), user_dictionary.data(), nullptr);
  return score_from_entropy_bits(bits);
}

std::optional<std::string> weak_password_reason(std::string_view nfkc_password,
                                                std::string_view email,
                                                const PasswordRules& rules) {
  const auto code_points = decode(nfkc_password);
  if (!code_points) return std::string(kPasswordNotTextDetail);

  if (code_points->size() < rules.min_length) {
    return "Password must be at least " + std::to_string(rules.min_length) + " characters.";
  }
  if (code_points->size() > rules.max_length) {
    return "Password must be at most " + std::to_string(rules.max_length) + " characters.";
  }

  // Before the estimate: this rule's sentence tells the user more than
  // "too easy to guess", which such a password usually also is.
  const CodePoints lowered = lower_cased(*code_points);
  const std::size_t at = email.rfind('@');
  const std::string_view local = at == std::string_view::npos ? email : email.substr(0, at);
  if (is_email_plus_a_few(lowered, email) || is_email_plus_a_few(lowered, local)) {
    return std::string("Password must not be based on your email address.");
  }

  if (rules.min_strength > 0 &&
      password_strength(nfkc_password, email) < static_cast<int>(rules.min_strength)) {
    return std::string("Password is too easy to guess.");
  }
  return std::nullopt;
}

}  // namespace authd
