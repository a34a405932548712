// `authd serve`: configuration → schema check → listening socket → pool.
// Each child builds its own adapters (one lazily opened database connection)
// and serves one request at a time.
#include <fcgiapp.h>
#include <signal.h>
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "adapters/crypto/argon2_hasher.h"
#include "adapters/crypto/jwt_signer.h"
#include "adapters/crypto/sodium_random.h"
#include "adapters/crypto/system_clock.h"
#include "adapters/mysql/admin_store.h"
#include "adapters/mysql/connection.h"
#include "adapters/mysql/email_token_store.h"
#include "adapters/mysql/mfa_store.h"
#include "adapters/mysql/migrations.h"
#include "adapters/mysql/outbox_store.h"
#include "adapters/mysql/passkey_store.h"
#include "adapters/mysql/session_store.h"
#include "adapters/mysql/throttle_store.h"
#include "adapters/mysql/transaction_runner.h"
#include "adapters/mysql/user_store.h"
#include "admission/gate.h"
#include "auth/auth_service.h"
#include "cli/commands.h"
#include "cli/startup.h"
#include "config/config.h"
#include "fcgi/listener.h"
#include "fcgi/server.h"
#include "http/app.h"
#include "http/handlers/handlers.h"
#include "log/log.h"
#include "metrics/recorder.h"
#include "metrics/shared_block.h"
#include "metrics/timed_hasher.h"
#include "ports/store_errors.h"
#include "supervisor/memory_budget.h"
#include "supervisor/prefork.h"
#include "util/shared_mapping.h"

namespace authd::cli {
namespace {

class DatabaseHealth final : public HealthProbe {
 public:
  explicit DatabaseHealth(mysql::Connection& connection) : connection_(connection) {}
  bool database_ready() override { return connection_.ping(); }

 private:
  mysql::Connection& connection_;
};

// What every child shares: the metrics block and the admission gates' state
// the master mapped before forking, who may read the metrics and who may use
// the admin API.
struct PoolShared {
  metrics::SharedBlock& metrics;
  const CidrSet& metrics_allow;
  const CidrSet& admin_allow;
  SharedMapping<admission::PoolState>& admission;
  admission::Settings admission_settings;
  bool fast_lane;
};

// One child of a lane: its own connection, stores, service and HTTP app.
int run_child(const Config& config, const JwtSettings& jwt, int listen_fd, admission::Lane lane,
              const supervisor::ChildSignals& signals, const PoolShared& pool) {
  metrics::Recorder recorder(pool.metrics.block(), getpid());
  recorder.set_admission(&pool.admission.get(), pool.admission_settings, pool.fast_lane);
  mysql::Connection connection(config.db, mysql::Account::app);
  connection.set_metrics(&recorder);
  mysql::MysqlUserStore users(connection);
  mysql::MysqlSessionStore sessions(connection);
  mysql::MysqlThrottleStore throttle(connection);
  mysql::MysqlMfaStore mfa(connection);
  mysql::MysqlTransactionRunner transactions(connection);
  mysql::MysqlEmailTokenStore email_tokens(connection);
  mysql::MysqlOutboxStore outbox(connection);
  mysql::MysqlMailRequestStore mail_requests(connection);
  mysql::MysqlPasskeyStore passkeys(connection);
  Argon2idHasher argon2(config.argon2_memory_kib, config.argon2_iterations, config.password_pepper);
  metrics::TimedHasher hasher(argon2, recorder);
  JwtSigner signer(jwt);
  SystemClock clock;
  SodiumRandom random;
  AuthService service(
      ServiceDeps{users, sessions, throttle, mfa, transactions, hasher, signer, clock, random,
                  email_tokens, outbox, mail_requests, passkeys, &recorder},
      service_policy(config));
  mysql::MysqlAdminKeyStore admin_keys(connection);
  mysql::MysqlAccountDirectory directory(connection);
  AdminService admin(AdminDeps{users, sessions, throttle, mfa, directory, admin_keys, transactions,
                               hasher, email_tokens, outbox, clock, random},
                     admin_policy(config));
  DatabaseHealth health(connection);
  http::HandlerDeps deps{
      service, health, signer.jwks_json(),
      http::MetricsEndpoint{[&recorder] { return recorder.render(); }, pool.metrics_allow},
      http::AdminEndpoint{&admin, pool.admin_allow}};
  http::Router router = http::make_router(deps);
  recorder.set_routes(router.patterns());
  http::HttpApp app(std::move(router), &recorder, lane);

  fcgi::StopControl stop{signals.stop_requested, signals.drain_requested, signals.idle_mask};
  admission::Gate gate(pool.admission.get().lanes[static_cast<std::size_t>(lane)],
                       pool.admission_settings);
  long served = fcgi::serve(listen_fd, app, stop, fcgi::AdmissionControl{&gate, lane, &recorder});
  log::debug("worker_exiting", {{"served", served}});
  return 0;
}

}  // namespace

int serve() {
  log::set_component("master");
  const std::optional<Config> loaded = load_config(ConfigPurpose::serve);
  if (!loaded) return 2;
  const Config& config = *loaded;
  // Every worker may be hashing at once: a pool whose peak does not fit the
  // memory it may use is refused here, not discovered by the OOM killer.
  const auto memory_limits = supervisor::read_memory_limits();
  if (auto too_much = supervisor::memory_budget_error(config.workers, config.argon2_memory_kib,
                                                      config.memory_budget_mib, memory_limits,
                                                      config.fast_workers)) {
    std::fprintf(stderr, "authd: configuration error: %s\n", too_much->c_str());
    return 2;
  }
  const auto memory =
      supervisor::plan_memory(config.workers, config.argon2_memory_kib, config.memory_budget_mib,
                              memory_limits, config.fast_workers);
  if (sodium_init() < 0) {
    log::error("startup_failed", {{"error", "libsodium could not initialise"}});
    return 1;
  }
  FCGX_Init();
  signal(SIGPIPE, SIG_IGN);

  // Keys are read and checked once, before the pool starts: a bad key file
  // stops the server here with one line, not in every child.
  auto jwt = jwt_settings(config);
  if (!jwt) return 2;
  if (int rc = check_schema(config); rc != 0) return rc;

  // Both lanes' queues are bounded by time, not length: as deep as the
  // kernel allows unless FCGI_BACKLOG says otherwise.
  const int backlog = config.listen_backlog > 0 ? config.listen_backlog : fcgi::default_backlog();
  std::optional<fcgi::Listener> listener;
  std::optional<fcgi::Listener> fast_listener;
  const std::string* opening = &config.listen;
  try {
    listener.emplace(config.listen, backlog, config.fcgi_socket_group);
    opening = &config.fast_listen;
    if (config.fast_workers > 0)
      fast_listener.emplace(config.fast_listen, backlog, config.fcgi_socket_group);
  } catch (const std::exception& e) {
    log::error("startup_failed", {{"error", e.what()}, {"listen", *opening}});
    return 1;
  }
  log::info("listening",
            {{"address", listener->description()},
             {"fast_lane", fast_listener ? fast_listener->description() : std::string("none")},
             {"backlog", backlog},
             {"workers", config.workers},
             {"fast_workers", config.fast_workers},
             {"admission_budget_ms", config.admission_budget_ms},
             {"admission_standing_budget_ms", config.admission_standing_budget_ms},
             {"argon2_memory_kib", static_cast<std::int64_t>(config.argon2_memory_kib)},
             {"argon2_iterations", static_cast<std::int64_t>(config.argon2_iterations)},
             {"memory_peak_mib", static_cast<std::int64_t>(memory.need_mib)},
             {"memory_budget_mib", static_cast<std::int64_t>(memory.budget_mib)}});

  // The pool's metrics: one shared block, mapped before the fork so that
  // every child counts into it and any child can answer for all.
  auto metrics_allow = CidrSet::parse(config.metrics_allow);
  if (!metrics_allow) {
    log::error("startup_failed", {{"error", "METRICS_ALLOW holds an entry that is not a CIDR"}});
    return 2;
  }
  auto admin_allow = CidrSet::parse(config.admin_allow);
  if (!admin_allow) {
    log::error("startup_failed", {{"error", "ADMIN_ALLOW holds an entry that is not a CIDR"}});
    return 2;
  }
  // And the admission gates' view of each listen queue, shared the same way.
  std::optional<metrics::SharedBlock> shared;
  std::optional<SharedMapping<admission::PoolState>> admission_state;
  try {
    shared.emplace();
    admission_state.emplace();
  } catch (const std::exception& e) {
    log::error("startup_failed", {{"error", e.what()}});
    return 1;
  }
  for (auto& lane : admission_state->get().lanes)
    admission::Gate::start(lane, admission::wall_clock_ms());
  const PoolShared pool{
      *shared,
      *metrics_allow,
      *admin_allow,
      *admission_state,
      admission::Settings{config.admission_budget_ms, config.admission_standing_budget_ms,
                          config.admission_max_clock_skew_ms},
      fast_listener.has_value()};

  // Group 0: the hashing lane (every route); group 1: the fast lane.
  supervisor::PreforkOptions options;
  options.groups = {supervisor::ChildGroup{config.workers, listener->fd()}};
  if (fast_listener) {
    options.groups.push_back(supervisor::ChildGroup{config.fast_workers, fast_listener->fd()});
  }
  options.on_child_exit = [&pool](pid_t pid, bool unexpected) {
    metrics::release_worker_slot(pool.metrics.block(), pid);
    if (unexpected) pool.metrics.block().worker_restarts.fetch_add(1, std::memory_order_relaxed);
  };
  return supervisor::run_prefork(
      options,
      [&config, &jwt, &options, &pool](const supervisor::ChildSignals& s, std::size_t group) {
        const auto lane = group == 0 ? admission::Lane::hashing : admission::Lane::fast;
        return run_child(config, *jwt, options.groups[group].listen_fd, lane, s, pool);
      });
}

}  // namespace authd::cli
