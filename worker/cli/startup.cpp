#include "cli/startup.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "adapters/mysql/connection.h"
#include "adapters/mysql/migrations.h"
#include "adapters/mysql/migrator.h"
#include "log/log.h"
#include "ports/store_errors.h"

namespace authd::cli {

int check_schema(const Config& config) {
  using Clock = std::chrono::steady_clock;
  // Long enough for a database container that starts beside us.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  int attempt = 0;
  while (true) {
    try {
      mysql::Connection connection(config.db, mysql::Account::app);
      const int have = mysql::read_schema_version(connection);
      const int need = mysql::latest_schema_version();
      if (have < need) {
        std::fprintf(stderr,
                     "authd: the database schema is at version %d, this server needs %d: run "
                     "`authd migrate` (or `make migrate`) first\n",
                     have, need);
        log::error("schema_too_old", {{"have", have}, {"need", need}});
        return 1;
      }
      if (have > need) {
        log::warn("schema_newer_than_binary", {{"have", have}, {"need", need}});
      }
      return 0;
    } catch (const StoreUnavailable& e) {
      if (Clock::now() >= deadline) {
        log::error("startup_failed", {{"error", "database unreachable"}, {"detail", e.what()}});
        std::fprintf(stderr, "authd: cannot reach the database at %s:%u: %s\n",
                     config.db.host.c_str(), config.db.port, e.what());
        return 1;
      }
      if (attempt++ % 5 == 0) {
        log::warn("waiting_for_database", {{"host", config.db.host}, {"detail", e.what()}});
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    } catch (const std::exception& e) {
      log::error("startup_failed", {{"error", e.what()}});
      std::fprintf(stderr, "authd: %s\n", e.what());
      return 1;
    }
  }
}

}  // namespace authd::cli
