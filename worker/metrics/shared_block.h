#pragma once
// The shared anonymous mapping that holds the pool's Block. Made by the
// master before it forks, so every worker inherits the same pages.
#include "metrics/block.h"
#include "util/shared_mapping.h"

namespace authd::metrics {

class SharedBlock : public SharedMapping<Block> {
 public:
  Block& block() noexcept { return get(); }
  const Block& block() const noexcept { return get(); }
};

}  // namespace authd::metrics
