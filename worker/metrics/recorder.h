#pragma once
// One worker's view of the pool's shared Block: it counts what the HTTP
// layer, the use cases and the adapters report (http::RequestObserver,
// MetricsSink) into the shared cells, and renders the whole pool's numbers
// for /metrics. Built in each worker after the fork.
#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "admission/gate.h"
#include "admission/observer.h"
#include "http/request_observer.h"
#include "metrics/block.h"
#include "ports/metrics_sink.h"

namespace authd::metrics {

class Recorder final : public MetricsSink,
                       public http::RequestObserver,
                       public admission::Observer {
 public:
  // Takes a worker slot for `pid` (the busy gauge).
  Recorder(Block& block, pid_t pid);
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // The routing table's patterns, in the order the router lists them (the
  // same in every worker). Beyond kMaxRoutes - 1, patterns are counted as
  // "no route" (and a warning says so once).
  void set_routes(const std::vector<std::string>& patterns);

  // http::RequestObserver
  void request_started() noexcept override;
  void request_finished(std::string_view route, int status,
                        std::chrono::nanoseconds took) noexcept override;

  // MetricsSink
  void login(LoginOutcome outcome) noexcept override;
  void password_work(PasswordWork work, std::chrono::nanoseconds took) noexcept override;
  void refresh_reuse_detected() noexcept override;
  void database_failure(DatabaseFailure failure) noexcept override;
  void database_reconnected() noexcept override;
  void passkey_registration(PasskeyRegistration outcome) noexcept override;
  void passkey_login(PasskeyLoginKind kind, PasskeyLogin outcome) noexcept override;

  // admission::Observer
  void admitted(admission::Lane lane, std::int64_t wait_ms) noexcept override;
  void refused(admission::Lane lane, std::int64_t wait_ms,
               std::chrono::nanoseconds cpu) noexcept override;

  // The pool's admission gates, for the budget-in-force gauge (optional).
  void set_admission(admission::PoolState* state, const admission::Settings& settings,
                     bool fast_lane) noexcept;

  // The whole pool, in the Prometheus text format.
  std::string render() const;

 private:
  std::size_t route_index(std::string_view route) const noexcept;
  bool is_admin_route(std::size_t index) const noexcept;

  Block& block_;
  WorkerSlot* slot_;
  std::vector<std::string> names_;  // [0]: no route matched
  std::map<std::string, std::size_t, std::less<>> index_;
  admission::PoolState* admission_state_ = nullptr;
  admission::Settings admission_settings_;
  bool fast_lane_ = false;
  std::vector<bool> admin_;  // by route index: under /admin/
};

}  // namespace authd::metrics
