#pragma once
// A set of IPv4/IPv6 networks (CIDR), asked whether an address belongs to
// one of them: who may read /metrics (METRICS_ALLOW). An IPv4-mapped IPv6
// address (::ffff:127.0.0.1) is judged as the IPv4 address it carries.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authd {

class CidrSet {
 public:
  CidrSet() = default;  // empty: contains nothing

  // Each entry "address" or "address/prefix". Nullopt when one is not.
  static std::optional<CidrSet> parse(const std::vector<std::string>& entries);

  // False for anything that is not an IP address (empty, a name, junk).
  bool contains(std::string_view address) const;
  bool empty() const noexcept { return networks_.empty(); }

 private:
  struct Network {
    bool v6 = false;
    std::array<unsigned char, 16> bytes{};
    unsigned prefix = 0;
  };
  std::vector<Network> networks_;
};

// The network a client address is throttled as (finding 12 of issue 17):
// an IPv6 address as its /64 ("2001:db8:1:2::/64"; one subscriber usually
// holds a whole /64, so keying on /128 gives each of them 2^64 budgets), an
// IPv4 address (or an IPv4-mapped IPv6 one) as itself, and anything that is
// not an address unchanged. nginx's per-address limit keys the same way
// (authd.conf.template, $authd_client_net).
std::string throttle_network(std::string_view address);

}  // namespace authd
