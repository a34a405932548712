#include "util/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace authd {
namespace {

struct Address {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};
};

constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::optional<Address> parse_address(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  std::memcpy(buf, text.data(), text.size());
  Address a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  a.v6 = true;
  if (std::memcmp(a.bytes.data(), kMappedPrefix, sizeof kMappedPrefix) == 0) {
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::memset(a.bytes.data() + 4, 0, 12);
    a.v6 = false;
  }
  return a;
}

bool prefix_equal(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& b,
                  unsigned prefix) {
  const unsigned whole = prefix / 8;
  if (std::memcmp(a.data(), b.data(), whole) != 0) return false;
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFF00u >> rest);
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<CidrSet> CidrSet::parse(const std::vector<std::string>& entries) {
  CidrSet set;
  for (const auto& entry : entries) {
    const std::string_view text(entry);
    const std::size_t slash = text.find('/');
    auto address = parse_address(text.substr(0, slash));
    if (!address) return std::nullopt;
    const unsigned max_prefix = address->v6 ? 128 : 32;
    unsigned prefix = max_prefix;
    if (slash != std::string_view::npos) {
      const std::string_view digits = text.substr(slash + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
          prefix > max_prefix) {
        return std::nullopt;
      }
    }
    set.networks_.push_back(Network{address->v6, address->bytes, prefix});
  }
  return set;
}

bool CidrSet::contains(std::string_view text) const {
  auto address = parse_address(text);
  if (!address) return false;
  for (const auto& n : networks_) {
    if (n.v6 == address->v6 && prefix_equal(n.bytes, address->bytes, n.prefix)) return true;
  }
  return false;
}

std::string throttle_network(std::string_view address) {
  auto parsed = parse_address(address);
  if (!parsed) return std::string(address);
  char text[INET6_ADDRSTRLEN] = {};
  if (!parsed->v6) {
    inet_ntop(AF_INET, parsed->bytes.data(), text, sizeof text);
    return text;
  }
  std::memset(parsed->bytes.data() + 8, 0, 8);
  inet_ntop(AF_INET6, parsed->bytes.data(), text, sizeof text);
  return std::string(text) + "/64";
}

}  // namespace authd
