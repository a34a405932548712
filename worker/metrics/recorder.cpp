#include "metrics/recorder.h"

#include "log/log.h"
#include "metrics/snapshot.h"
#include "metrics/text_format.h"

namespace authd::metrics {

Recorder::Recorder(Block& block, pid_t pid)
    : block_(block), slot_(claim_worker_slot(block, pid)), names_{"unmatched"} {
  if (slot_ == nullptr) log::warn("metrics_no_worker_slot", {{"slots", kMaxWorkerSlots}});
}

void Recorder::set_routes(const std::vector<std::string>& patterns) {
  names_.assign(1, "unmatched");
  index_.clear();
  admin_.assign(1, false);
  for (const auto& p : patterns) {
    if (index_.count(p)) continue;
    if (names_.size() >= kMaxRoutes) {
      log::warn("metrics_too_many_routes", {{"max", kMaxRoutes - 1}, {"route", p}});
      break;
    }
    index_.emplace(p, names_.size());
    names_.push_back(p);
    admin_.push_back(p.starts_with("/admin/"));
  }
}

std::size_t Recorder::route_index(std::string_view route) const noexcept {
  auto it = index_.find(route);
  return it == index_.end() ? 0 : it->second;
}

bool Recorder::is_admin_route(std::size_t index) const noexcept {
  return index < admin_.size() && admin_[index];
}

void Recorder::request_started() noexcept {
  if (slot_) slot_->busy.store(1, std::memory_order_relaxed);
}

void Recorder::request_finished(std::string_view route, int status,
                                std::chrono::nanoseconds took) noexcept {
  const std::size_t r = route_index(route);
  block_.requests[r][status_slot(status)].fetch_add(1, std::memory_order_relaxed);
  block_.latency[r].observe(to_ns(took), kLatencyBoundsNs);
  if (is_admin_route(r)) {
    block_.admin_requests[r][admin_outcome_slot(status)].fetch_add(1, std::memory_order_relaxed);
  }
  if (slot_) slot_->busy.store(0, std::memory_order_relaxed);
}

void Recorder::login(LoginOutcome outcome) noexcept {
  block_.logins[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
}

void Recorder::password_work(PasswordWork work, std::chrono::nanoseconds took) noexcept {
  block_.password[static_cast<std::size_t>(work)].observe(to_ns(took), kHashBoundsNs);
}

void Recorder::refresh_reuse_detected() noexcept {
  block_.refresh_reuse.fetch_add(1, std::memory_order_relaxed);
}

void Recorder::database_failure(DatabaseFailure failure) noexcept {
  block_.db_failures[static_cast<std::size_t>(failure)].fetch_add(1, std::memory_order_relaxed);
}

void Recorder::database_reconnected() noexcept {
  block_.db_reconnects.fetch_add(1, std::memory_order_relaxed);
}

void Recorder::admitted(admission::Lane lane, std::int64_t wait_ms) noexcept {
  const auto l = static_cast<std::size_t>(lane);
  block_.admission_wait[l].observe(static_cast<std::uint64_t>(wait_ms) * 1'000'000, kWaitBoundsNs);
}

void Recorder::refused(admission::Lane lane, std::int64_t /*wait_ms*/,
                       std::chrono::nanoseconds cpu) noexcept {
  block_.admission_refused[static_cast<std::size_t>(lane)].fetch_add(1, std::memory_order_relaxed);
  block_.admission_refusal_cpu_ns.fetch_add(to_ns(cpu), std::memory_order_relaxed);
}

void Recorder::set_admission(admission::PoolState* state, const admission::Settings& settings,
                             bool fast_lane) noexcept {
  admission_state_ = state;
  admission_settings_ = settings;
  fast_lane_ = fast_lane;
}

void Recorder::passkey_registration(PasskeyRegistration outcome) noexcept {
  block_.passkey_registrations[static_cast<std::size_t>(outcome)].fetch_add(
      1, std::memory_order_relaxed);
}

void Recorder::passkey_login(PasskeyLoginKind kind, PasskeyLogin outcome) noexcept {
  block_.passkey_logins[static_cast<std::size_t>(kind)][static_cast<std::size_t>(outcome)]
      .fetch_add(1, std::memory_order_relaxed);
}

std::string Recorder::render() const {
  Snapshot snapshot = take_snapshot(block_);
  if (admission_state_ != nullptr) {
    const std::int64_t now_ms = admission::wall_clock_ms();
    for (std::size_t l = 0; l < kLanes; ++l) {
      if (l == static_cast<std::size_t>(admission::Lane::fast) && !fast_lane_) continue;
      const admission::Gate gate(admission_state_->lanes[l], admission_settings_);
      snapshot.admission_budget_ms[l] = static_cast<std::uint64_t>(gate.budget_now(now_ms));
    }
  }
  return render_text(snapshot, names_);
}

}  // namespace authd::metrics
