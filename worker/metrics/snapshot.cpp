#include "metrics/snapshot.h"

namespace authd::metrics {
namespace {

std::uint64_t load(const Counter& c) noexcept {
  return c.load(std::memory_order_relaxed);
}

template <std::size_t Bounds>
void copy(const HistogramCells<Bounds>& from, HistogramValues<Bounds>& to) noexcept {
  for (std::size_t i = 0; i <= Bounds; ++i)
    to.counts[i] = load(from.counts[i]);
  to.sum_ns = load(from.sum_ns);
}

}  // namespace

Snapshot take_snapshot(const Block& block) noexcept {
  Snapshot s;
  for (std::size_t r = 0; r < kMaxRoutes; ++r) {
    for (std::size_t i = 0; i < kStatusSlots; ++i)
      s.requests[r][i] = load(block.requests[r][i]);
    copy(block.latency[r], s.latency[r]);
  }
  for (std::size_t w = 0; w < kPasswordWorks; ++w)
    copy(block.password[w], s.password[w]);
  for (std::size_t i = 0; i < kLoginOutcomes; ++i)
    s.logins[i] = load(block.logins[i]);
  s.refresh_reuse = load(block.refresh_reuse);
  for (std::size_t i = 0; i < kDatabaseFailures; ++i)
    s.db_failures[i] = load(block.db_failures[i]);
  s.db_reconnects = load(block.db_reconnects);
  s.worker_restarts = load(block.worker_restarts);
  for (std::size_t l = 0; l < kLanes; ++l) {
    s.admission_refused[l] = load(block.admission_refused[l]);
    copy(block.admission_wait[l], s.admission_wait[l]);
  }
  s.admission_refusal_cpu_ns = load(block.admission_refusal_cpu_ns);
  for (std::size_t i = 0; i < kPasskeyRegistrations; ++i)
    s.passkey_registrations[i] = load(block.passkey_registrations[i]);
  for (std::size_t k = 0; k < kPasskeyLoginKinds; ++k)
    for (std::size_t i = 0; i < kPasskeyLogins; ++i)
      s.passkey_logins[k][i] = load(block.passkey_logins[k][i]);
  for (std::size_t r = 0; r < kMaxRoutes; ++r) {
    for (std::size_t i = 0; i < kAdminOutcomes; ++i)
      s.admin_requests[r][i] = load(block.admin_requests[r][i]);
  }
  for (const auto& slot : block.workers) {
    if (slot.pid.load(std::memory_order_acquire) == 0) continue;
    ++s.workers_alive;
    if (slot.busy.load(std::memory_order_relaxed) != 0) ++s.workers_busy;
  }
  return s;
}

}  // namespace authd::metrics
