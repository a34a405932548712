#pragma once
// Owns the shared anonymous mapping that holds the pool's Block. Made by
// the master before it forks, so every worker inherits the same pages.
#include <cstddef>

#include "metrics/block.h"

namespace authd::metrics {

class SharedBlock {
 public:
  // Maps and zeroes a Block (MAP_SHARED | MAP_ANONYMOUS). Throws
  // std::system_error when the kernel refuses.
  SharedBlock();
  ~SharedBlock();
  SharedBlock(SharedBlock&& other) noexcept;
  SharedBlock& operator=(SharedBlock&&) = delete;
  SharedBlock(const SharedBlock&) = delete;
  SharedBlock& operator=(const SharedBlock&) = delete;

  Block& block() noexcept { return *block_; }
  const Block& block() const noexcept { return *block_; }

 private:
  void* mapping_ = nullptr;
  std::size_t size_ = 0;
  Block* block_ = nullptr;
};

}  // namespace authd::metrics
