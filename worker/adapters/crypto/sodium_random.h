#pragma once
#include "ports/random.h"

namespace authd {

// libsodium's CSPRNG (getrandom(2) underneath). sodium_init() must have run.
class SodiumRandom final : public Random {
 public:
  void fill(std::span<std::uint8_t> out) override;
};

}  // namespace authd
