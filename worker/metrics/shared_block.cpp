#include "metrics/shared_block.h"

#include <sys/mman.h>

#include <cerrno>
#include <new>
#include <system_error>
#include <utility>

namespace authd::metrics {

SharedBlock::SharedBlock() : size_(sizeof(Block)) {
  mapping_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    throw std::system_error(errno, std::generic_category(), "metrics: mmap of the shared block");
  }
  // Anonymous pages arrive zeroed; value-initialising makes every atomic a
  // live object holding 0.
  block_ = new (mapping_) Block{};
}

SharedBlock::SharedBlock(SharedBlock&& other) noexcept
    : mapping_(std::exchange(other.mapping_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      block_(std::exchange(other.block_, nullptr)) {}

SharedBlock::~SharedBlock() {
  if (mapping_ != nullptr) {
    block_->~Block();
    munmap(mapping_, size_);
  }
}

}  // namespace authd::metrics
