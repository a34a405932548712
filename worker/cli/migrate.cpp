// `authd migrate`: applies the embedded sql/ migrations with the migration
// account (MYSQL_MIGRATE_USER), under a database lock.
#include <cstdio>
#include <thread>
#include <variant>

#include "adapters/mysql/connection.h"
#include "adapters/mysql/migrations.h"
#include "cli/commands.h"
#include "config/config.h"
#include "log/log.h"

namespace authd::cli {

int migrate() {
  log::set_component("migrate");
  auto parsed = parse_config(process_env(), ConfigPurpose::migrate,
                             std::max(1u, std::thread::hardware_concurrency()));
  if (auto* err = std::get_if<ConfigError>(&parsed)) {
    std::fprintf(stderr, "authd: configuration error: %s\n", err->message.c_str());
    return 2;
  }
  const Config config = std::get<Config>(std::move(parsed));
  log::set_level(config.log_level);
  try {
    mysql::Connection connection(config.db, mysql::Account::migrator);
    mysql::migrate(connection, [](std::string_view line) {
      std::fprintf(stdout, "authd migrate: %.*s\n", static_cast<int>(line.size()), line.data());
      std::fflush(stdout);
    });
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "authd migrate: failed: %s\n", e.what());
    return 1;
  }
}

}  // namespace authd::cli
