#include "adapters/crypto/sodium_random.h"

#include <sodium.h>

namespace authd {

void SodiumRandom::fill(std::span<std::uint8_t> out) {
  randombytes_buf(out.data(), out.size());
}

}  // namespace authd
