#pragma once
// Admission by waiting time (README "Reliability"). A request is served when
// it can start within the admission budget, and refused (503 + Retry-After,
// without its work) when a worker reaches it after waiting longer.
//
// The budget follows CoDel as Facebook applied it to server queues
// (B. Maurer, "Fail at Scale", ACM Queue 13(8), 2015): while the listen queue
// empties regularly, a burst is absorbed with the long budget
// (ADMISSION_BUDGET_MS); once the queue has stayed non-empty for that long
// (the interval), it is a standing queue and the short budget
// (ADMISSION_STANDING_BUDGET_MS) sheds it. The interval exceeds the time a
// burst of 32 requests per worker takes to drain, so an ordinary burst is
// never shed; a refused request has always waited at least the short budget,
// so clients that retry at once are paced by the queue instead of spinning.
// Once standing, the queue counts as drained again only when a worker has
// been idle for a third of the interval: shedding itself empties the queue
// for a moment, and counting that would swing the pool back to the long
// budget and let the next queue build to seconds (measured: refusals after
// seconds of waiting, every interval, under a 10x flood).
//
// How long a request waited: nginx stamps it with its clock ($msec) when it
// hands it to the pool (`AUTHD_QUEUED_AT`); the worker compares that with
// its own clock when it takes it. nginx and the pool may run on different
// hosts, whose clocks differ: the difference of two clocks is the same for
// every request, and some request waits next to nothing whenever the queue
// empties, so the smallest (now − stamp) seen over the last minute is taken
// as the clocks' offset (with the network's one-way delay) and subtracted
// (LEDBAT's base delay). On one host the offset is about zero. A stamp
// further than ADMISSION_MAX_CLOCK_SKEW_MS from the worker's clock is not
// believed: the request is admitted, untimed, and a warning says so.
//
// The state is per listen queue (a lane), shared by the workers of that lane
// through a shared mapping, and written with relaxed atomics: a lost update
// moves a timestamp by microseconds, never a decision that matters.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace authd::admission {

// The pool's two listen queues: the hashing lane serves every route; the
// fast lane (its own processes and socket) only the routes that never compute
// Argon2id, so that token checks never wait behind hashes.
enum class Lane : std::uint8_t { hashing = 0, fast = 1 };
inline constexpr std::size_t kLanes = 2;
std::string_view lane_name(Lane lane) noexcept;

// The worker's wall clock, ms since the epoch (what nginx's $msec is
// compared with).
std::int64_t wall_clock_ms() noexcept;

struct Settings {
  std::int64_t budget_ms = 3000;         // ADMISSION_BUDGET_MS: long budget, and the interval
  std::int64_t standing_budget_ms = 30;  // ADMISSION_STANDING_BUDGET_MS: once a queue stands
  std::int64_t max_clock_skew_ms = 30000;
};

// One lane's shared state. Plain atomics only (it lives in a shared mapping).
struct LaneState {
  // The last moment (worker clock, ms since the epoch) a worker of this lane
  // found its queue empty. 0: never, which counts as "standing" only once
  // the interval has passed since the pool started (see Gate::start).
  std::atomic<std::int64_t> queue_empty_at_ms;
  // Two windows of the clock-offset minimum, each packed as
  // (window number << 32) | (offset + 2^31): one 64-bit word, so a window
  // and its minimum always change together.
  std::atomic<std::uint64_t> offset_windows[2];
};
static_assert(std::atomic<std::int64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

struct PoolState {
  LaneState lanes[kLanes];
};

struct Verdict {
  bool admit = true;
  bool timed = false;     // the request carried a believable stamp
  bool standing = false;  // the queue had stayed non-empty for the interval
  std::int64_t wait_ms = 0;
  std::int64_t budget_ms = 0;  // the budget in force for this request
};

class Gate {
 public:
  Gate(LaneState& state, const Settings& settings) : state_(state), settings_(settings) {}

  // The master, before it forks: the queue counts as just emptied.
  static void start(LaneState& state, std::int64_t now_ms) noexcept;

  // A worker of this lane found nothing to accept. While the queue empties
  // regularly this keeps the long budget; once it stands, a moment's
  // emptiness does not end it: refusing a standing queue empties it too, and
  // clients that retry at once refill it within a millisecond.
  void queue_empty(std::int64_t now_ms) noexcept;

  // A worker of this lane was idle, waiting for a connection, from
  // `since_ms` to `now_ms`. An idle spell of a third of the interval shows
  // the overload is over: the long budget is back. (Shorter pauses happen
  // within an overload: a load generator, or nginx, busy with the answers
  // to a thousand refusals stops sending for a few hundred milliseconds.)
  void queue_idle(std::int64_t since_ms, std::int64_t now_ms) noexcept;

  // How long a worker waits idle before telling queue_idle(), so that a
  // drained pool gets its long budget back without a request to wake it.
  std::int64_t settle_ms() const noexcept { return settings_.budget_ms / 3; }

  // The budget in force now.
  std::int64_t budget_now(std::int64_t now_ms) const noexcept;

  // Judges a request taken from the queue at `now_ms` (worker clock) that
  // nginx stamped `queued_at_ms` (nginx's clock), if it did.
  Verdict judge(std::int64_t now_ms, std::optional<std::int64_t> queued_at_ms) noexcept;

  // The clocks' offset now (worker − nginx, ms), if any stamp was seen in
  // the last two windows. For metrics and tests.
  std::optional<std::int64_t> clock_offset_ms(std::int64_t now_ms) const noexcept;

  // How long one window of the offset minimum lasts.
  static constexpr std::int64_t kOffsetWindowMs = 30'000;

 private:
  bool standing(std::int64_t now_ms) const noexcept;
  void mark_empty(std::int64_t now_ms) noexcept;
  void record_offset(std::int64_t now_ms, std::int64_t raw_ms) noexcept;

  LaneState& state_;
  Settings settings_;
};

}  // namespace authd::admission
