#include "metrics/block.h"

namespace authd::metrics {

WorkerSlot* claim_worker_slot(Block& block, pid_t pid) noexcept {
  for (auto& slot : block.workers) {
    std::int32_t free = 0;
    if (slot.pid.compare_exchange_strong(free, static_cast<std::int32_t>(pid),
                                         std::memory_order_acq_rel)) {
      slot.busy.store(0, std::memory_order_release);
      return &slot;
    }
  }
  return nullptr;
}

void release_worker_slot(Block& block, pid_t pid) noexcept {
  for (auto& slot : block.workers) {
    if (slot.pid.load(std::memory_order_acquire) == static_cast<std::int32_t>(pid)) {
      slot.busy.store(0, std::memory_order_release);
      slot.pid.store(0, std::memory_order_release);
      return;
    }
  }
}

}  // namespace authd::metrics
