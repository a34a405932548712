#include "auth/email.h"

#include <cstddef>

namespace authd::email {
namespace {

constexpr std::size_t kMaxAddressOctets = 254;  // RFC 5321 path limit minus the angle brackets
constexpr std::size_t kMaxLocalOctets = 64;     // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxLabelOctets = 63;     // RFC 1035 2.3.4

// Only ASCII: the contract trims ASCII white space, and a locale-aware
// isspace/tolower could differ between hosts and split one account in two.
bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

// RFC 5322 atext.
bool is_atext(char c) {
  if (is_ascii_letter(c) || is_ascii_digit(c)) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return kSpecials.find(c) != std::string_view::npos;
}

bool is_dot_atom(std::string_view local) {
  if (local.empty() || local.front() == '.' || local.back() == '.') return false;
  char previous = '\0';
  for (char c : local) {
    if (c == '.') {
      if (previous == '.') return false;
    } else if (!is_atext(c)) {
      return false;
    }
    previous = c;
  }
  return true;
}

bool is_ldh_label(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelOctets) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '-') return false;
  }
  return true;
}

bool is_ldh_domain(std::string_view domain) {
  std::size_t labels = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = domain.find('.', start);
    const std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_ldh_label(label)) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

}  // namespace

std::string normalise(std::string_view raw) {
  std::size_t begin = 0;
  std::size_t end = raw.size();
  while (begin < end && is_ascii_space(raw[begin]))
    ++begin;
  while (end > begin && is_ascii_space(raw[end - 1]))
    --end;
  std::string normalised(raw.substr(begin, end - begin));
  for (char& c : normalised) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return normalised;
}

bool is_valid(std::string_view normalised) {
  if (normalised.size() > kMaxAddressOctets) return false;
  const std::size_t at = normalised.find('@');
  if (at == std::string_view::npos || normalised.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view local = normalised.substr(0, at);
  const std::string_view domain = normalised.substr(at + 1);
  if (local.size() > kMaxLocalOctets) return false;
  return is_dot_atom(local) && is_ldh_domain(domain);
}

}  // namespace authd::email
