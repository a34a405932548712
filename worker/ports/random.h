#pragma once
// Cryptographically secure randomness (ids, tokens, salts). Injectable so unit
// tests are repeatable.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace authd {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;

  std::string bytes(std::size_t n) {
    std::string out(n, '\0');
    fill({reinterpret_cast<std::uint8_t*>(out.data()), out.size()});
    return out;
  }
};

}  // namespace authd
