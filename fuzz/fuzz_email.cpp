// libFuzzer target: email normalisation and validation (API.md
// "Conventions"). Oracles: normalising is idempotent; an address that
// validates keeps every rule the contract lists.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/email.h"

namespace {

[[noreturn]] void broken(const char* rule) {
  std::fprintf(stderr, "email rule broken: %s\n", rule);
  std::abort();
}

bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

void check_valid(std::string_view e) {
  if (e.size() > 254) broken("at most 254 octets");
  const auto at = e.find('@');
  if (at == std::string_view::npos || e.find('@', at + 1) != std::string_view::npos) {
    broken("exactly one @");
  }
  std::string_view local = e.substr(0, at), domain = e.substr(at + 1);
  if (local.empty() || local.size() > 64) broken("local part of 1 to 64 octets");
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    broken("dots neither first, last nor doubled");
  }
  for (char c : local)
    if (c != '.' && !is_atext(c)) broken("dot-atom local part (lower case)");
  int labels = 0;
  while (true) {
    const auto dot = domain.find('.');
    std::string_view label = domain.substr(0, dot);
    if (label.empty() || label.size() > 63) broken("labels of 1 to 63 octets");
    if (label.front() == '-' || label.back() == '-') broken("no leading or trailing hyphen");
    for (char c : label)
      if (!is_ldh(c)) broken("LDH labels (lower case)");
    ++labels;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  if (labels < 2) broken("at least two labels");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const std::string once = authd::email::normalise(raw);
  if (authd::email::normalise(once) != once) broken("normalise is idempotent");
  for (char c : once)
    if (c >= 'A' && c <= 'Z') broken("normalised is lower case");
  if (authd::email::is_valid(once)) check_valid(once);
  // Validation of a raw (not normalised) address must not crash either.
  static_cast<void>(authd::email::is_valid(raw));
  return 0;
}
