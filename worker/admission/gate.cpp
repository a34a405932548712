#include "admission/gate.h"

#include <time.h>

#include <algorithm>
#include <cstdlib>

namespace authd::admission {
namespace {

constexpr std::uint64_t kOffsetBias = std::uint64_t{1} << 31;

constexpr std::uint64_t pack(std::int64_t window, std::int64_t offset_ms) noexcept {
  return (static_cast<std::uint64_t>(window) << 32) |
         static_cast<std::uint32_t>(static_cast<std::uint64_t>(offset_ms + kOffsetBias));
}
constexpr std::int64_t window_of(std::uint64_t packed) noexcept {
  return static_cast<std::int64_t>(packed >> 32);
}
constexpr std::int64_t offset_of(std::uint64_t packed) noexcept {
  return static_cast<std::int64_t>(packed & 0xffffffffu) - static_cast<std::int64_t>(kOffsetBias);
}

}  // namespace

std::int64_t wall_clock_ms() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::string_view lane_name(Lane lane) noexcept {
  return lane == Lane::fast ? "fast" : "hashing";
}

void Gate::start(LaneState& state, std::int64_t now_ms) noexcept {
  state.queue_empty_at_ms.store(now_ms, std::memory_order_relaxed);
}

void Gate::mark_empty(std::int64_t now_ms) noexcept {
  // Only forward: a worker whose clock read is a moment older must not move
  // it back (nothing breaks if it did; this keeps the gauge monotonic).
  std::int64_t seen = state_.queue_empty_at_ms.load(std::memory_order_relaxed);
  while (seen < now_ms &&
         !state_.queue_empty_at_ms.compare_exchange_weak(seen, now_ms, std::memory_order_relaxed)) {
  }
}

bool Gate::standing(std::int64_t now_ms) const noexcept {
  return now_ms - state_.queue_empty_at_ms.load(std::memory_order_relaxed) > settings_.budget_ms;
}

void Gate::queue_empty(std::int64_t now_ms) noexcept {
  if (!standing(now_ms)) mark_empty(now_ms);
}

void Gate::queue_idle(std::int64_t since_ms, std::int64_t now_ms) noexcept {
  if (now_ms - since_ms >= settle_ms() || !standing(now_ms)) mark_empty(now_ms);
}

std::int64_t Gate::budget_now(std::int64_t now_ms) const noexcept {
  return standing(now_ms) ? settings_.standing_budget_ms : settings_.budget_ms;
}

void Gate::record_offset(std::int64_t now_ms, std::int64_t raw_ms) noexcept {
  const std::int64_t window = now_ms / kOffsetWindowMs;
  auto& slot = state_.offset_windows[window & 1];
  std::uint64_t seen = slot.load(std::memory_order_relaxed);
  while (true) {
    if (window_of(seen) == window && offset_of(seen) <= raw_ms) return;
    // A new window starts from this sample; an older one keeps its minimum.
    if (window_of(seen) > window) return;
    if (slot.compare_exchange_weak(seen, pack(window, raw_ms), std::memory_order_relaxed)) return;
  }
}

std::optional<std::int64_t> Gate::clock_offset_ms(std::int64_t now_ms) const noexcept {
  const std::int64_t window = now_ms / kOffsetWindowMs;
  std::optional<std::int64_t> best;
  for (const auto& slot : state_.offset_windows) {
    const std::uint64_t packed = slot.load(std::memory_order_relaxed);
    const std::int64_t w = window_of(packed);
    if (packed == 0 || w < window - 1 || w > window) continue;
    const std::int64_t offset = offset_of(packed);
    if (!best || offset < *best) best = offset;
  }
  return best;
}

Verdict Gate::judge(std::int64_t now_ms, std::optional<std::int64_t> queued_at_ms) noexcept {
  Verdict v;
  v.standing = standing(now_ms);
  v.budget_ms = v.standing ? settings_.standing_budget_ms : settings_.budget_ms;
  if (!queued_at_ms) return v;  // not stamped: nothing to judge by
  const std::int64_t raw = now_ms - *queued_at_ms;
  if (std::llabs(raw) > settings_.max_clock_skew_ms) return v;  // not believed
  record_offset(now_ms, raw);
  const std::int64_t offset = clock_offset_ms(now_ms).value_or(raw);
  v.timed = true;
  v.wait_ms = std::max<std::int64_t>(0, raw - offset);
  v.admit = v.wait_ms <= v.budget_ms;
  return v;
}

}  // namespace authd::admission
