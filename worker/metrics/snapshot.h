#pragma once
// A copy of the shared Block in plain integers, taken with one relaxed load
// per cell: what the text format renders. Cells are read one by one while
// workers keep counting, so two cells may be a request apart; the text
// format derives each histogram's count from its own cells, which keeps
// every histogram consistent with itself.
#include <array>
#include <cstdint>

#include "metrics/block.h"

namespace authd::metrics {

template <std::size_t Bounds>
struct HistogramValues {
  std::array<std::uint64_t, Bounds + 1> counts{};  // per cell, last = +Inf
  std::uint64_t sum_ns = 0;

  std::uint64_t count() const noexcept {
    std::uint64_t n = 0;
    for (auto c : counts)
      n += c;
    return n;
  }
};

struct Snapshot {
  std::array<std::array<std::uint64_t, kStatusSlots>, kMaxRoutes> requests{};
  std::array<HistogramValues<kLatencyBoundsNs.size()>, kMaxRoutes> latency{};
  std::array<HistogramValues<kHashBoundsNs.size()>, kPasswordWorks> password{};
  std::array<std::uint64_t, kLoginOutcomes> logins{};
  std::uint64_t refresh_reuse = 0;
  std::array<std::uint64_t, kDatabaseFailures> db_failures{};
  std::uint64_t db_reconnects = 0;
  std::uint64_t worker_restarts = 0;
  std::array<std::uint64_t, kPasskeyRegistrations> passkey_registrations{};
  std::array<std::array<std::uint64_t, kPasskeyLogins>, kPasskeyLoginKinds> passkey_logins{};
  std::array<std::array<std::uint64_t, kAdminOutcomes>, kMaxRoutes> admin_requests{};
  std::uint64_t workers_alive = 0;
  std::uint64_t workers_busy = 0;
  std::array<std::uint64_t, kLanes> admission_refused{};
  std::array<HistogramValues<kWaitBoundsNs.size()>, kLanes> admission_wait{};
  std::uint64_t admission_refusal_cpu_ns = 0;
  // The budget in force per lane (ms), as the gate sees it at the scrape;
  // 0 when the lane has no gate.
  std::array<std::uint64_t, kLanes> admission_budget_ms{};
};

Snapshot take_snapshot(const Block& block) noexcept;

}  // namespace authd::metrics
