#pragma once
// The pool's counters, laid out as one plain block of atomics that the
// master maps (shared, anonymous) before it forks: every worker adds to the
// same cells, so any worker can answer /metrics for the whole pool. The
// block holds no pointers and no strings (route names are indices into the
// routing table, which every worker builds the same way).
//
// Cross-process atomics must be lock-free (address-free): asserted below.
#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "admission/gate.h"

namespace authd::metrics {

using Counter = std::atomic<std::uint64_t>;
static_assert(Counter::is_always_lock_free, "shared counters must be lock-free");
static_assert(std::atomic<std::int32_t>::is_always_lock_free);

// Route 0 is "no route matched"; the routing table's patterns follow.
inline constexpr std::size_t kMaxRoutes = 64;

// The statuses the contract uses, each a cell of its own; anything else is
// counted in one more cell, labelled "other".
inline constexpr std::array<int, 21> kStatuses{200, 201, 202, 204, 301, 302, 304,
                                               400, 401, 403, 404, 405, 409, 413,
                                               415, 422, 429, 500, 502, 503, 504};
inline constexpr std::size_t kStatusSlots = kStatuses.size() + 1;

constexpr std::size_t status_slot(int status) noexcept {
  for (std::size_t i = 0; i < kStatuses.size(); ++i)
    if (kStatuses[i] == status) return i;
  return kStatuses.size();
}

// Histogram upper bounds (inclusive, as Prometheus' `le`), in nanoseconds so
// that the hot path compares integers. Request latency spans a health check
// (well under 1 ms) to a slow database (seconds); a password hash is tens of
// milliseconds at the default Argon2id cost.
inline constexpr std::array<std::uint64_t, 13> kLatencyBoundsNs{
    1'000'000,     2'500'000,     5'000'000,     10'000'000,  25'000'000,
    50'000'000,    100'000'000,   250'000'000,   500'000'000, 1'000'000'000,
    2'500'000'000, 5'000'000'000, 10'000'000'000};
// How long an admitted request waited in the listen queue: from nothing (a
// worker was free) to the admission budget (seconds).
inline constexpr std::array<std::uint64_t, 12> kWaitBoundsNs{
    1'000'000,   2'500'000,   5'000'000,   10'000'000,    25'000'000,    50'000'000,
    100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000};
inline constexpr std::array<std::uint64_t, 11> kHashBoundsNs{
    2'500'000,  5'000'000,   10'000'000,  20'000'000,  30'000'000,   50'000'000,
    75'000'000, 100'000'000, 200'000'000, 500'000'000, 1'000'000'000};

// The cell a duration falls in: the first bound it does not exceed, or the
// last cell (+Inf).
template <std::size_t N>
constexpr std::size_t bucket_index(const std::array<std::uint64_t, N>& bounds,
                                   std::uint64_t ns) noexcept {
  for (std::size_t i = 0; i < N; ++i)
    if (ns <= bounds[i]) return i;
  return N;
}

inline std::uint64_t to_ns(std::chrono::nanoseconds d) noexcept {
  return d.count() < 0 ? 0 : static_cast<std::uint64_t>(d.count());
}

// Per-cell counts (not cumulative: the text format adds them up), and the
// sum of the observed durations.
template <std::size_t Bounds>
struct HistogramCells {
  Counter counts[Bounds + 1];
  Counter sum_ns;

  void observe(std::uint64_t ns, const std::array<std::uint64_t, Bounds>& bounds) noexcept {
    counts[bucket_index(bounds, ns)].fetch_add(1, std::memory_order_relaxed);
    sum_ns.fetch_add(ns, std::memory_order_relaxed);
  }
};

// One worker process: `pid` 0 when free. A line of its own so that busy
// flags of different workers never share a cache line.
struct alignas(64) WorkerSlot {
  std::atomic<std::int32_t> pid;
  std::atomic<std::uint32_t> busy;
};

// API_WORKERS is at most 256; a reload runs one replacement beside them.
inline constexpr std::size_t kMaxWorkerSlots = 512;

inline constexpr std::size_t kLoginOutcomes = 5;         // LoginOutcome
inline constexpr std::size_t kPasswordWorks = 2;         // PasswordWork
inline constexpr std::size_t kDatabaseFailures = 4;      // DatabaseFailure
inline constexpr std::size_t kPasskeyRegistrations = 4;  // PasskeyRegistration
inline constexpr std::size_t kPasskeyLoginKinds = 2;     // PasskeyLoginKind
inline constexpr std::size_t kPasskeyLogins = 5;         // PasskeyLogin
inline constexpr std::size_t kLanes = admission::kLanes;

// What became of an admin API request, by its status: ok (2xx),
// bad_request (400, 413, 415), invalid_key (401), insufficient_scope (403),
// not_found (404), refused (any other 4xx: 405, 409, 422, 429), error (5xx).
inline constexpr std::size_t kAdminOutcomes = 7;
constexpr std::size_t admin_outcome_slot(int status) noexcept {
  if (status < 400) return 0;
  switch (status) {
    case 400:
    case 413:
    case 415:
      return 1;
    case 401:
      return 2;
    case 403:
      return 3;
    case 404:
      return 4;
    default:
      return status < 500 ? 5 : 6;
  }
}

struct Block {
  Counter requests[kMaxRoutes][kStatusSlots];
  HistogramCells<kLatencyBoundsNs.size()> latency[kMaxRoutes];
  HistogramCells<kHashBoundsNs.size()> password[kPasswordWorks];
  Counter logins[kLoginOutcomes];
  Counter refresh_reuse;
  Counter db_failures[kDatabaseFailures];
  Counter db_reconnects;
  Counter worker_restarts;
  // Admission by waiting time, by lane (admission::Lane).
  Counter admission_refused[kLanes];
  HistogramCells<kWaitBoundsNs.size()> admission_wait[kLanes];
  Counter admission_refusal_cpu_ns;
  Counter passkey_registrations[kPasskeyRegistrations];
  Counter passkey_logins[kPasskeyLoginKinds][kPasskeyLogins];
  // Requests of the routes under /admin/ (by route index), by outcome.
  Counter admin_requests[kMaxRoutes][kAdminOutcomes];
  WorkerSlot workers[kMaxWorkerSlots];
};

// Takes a free worker slot for `pid` (null when all are taken: that worker
// is then not counted in the busy gauge, nothing else changes).
WorkerSlot* claim_worker_slot(Block& block, pid_t pid) noexcept;

// The master, when a worker has exited: frees its slot, and clears its busy
// flag (a worker killed mid-request never cleared it itself).
void release_worker_slot(Block& block, pid_t pid) noexcept;

}  // namespace authd::metrics
