// `authd migrate`: applies the embedded sql/ migrations with the migration
// account (MYSQL_MIGRATE_USER), under a database lock.
#include <cstdio>

#include "adapters/mysql/connection.h"
#include "adapters/mysql/migrations.h"
#include "cli/commands.h"
#include "cli/startup.h"
#include "config/config.h"
#include "log/log.h"

namespace authd::cli {

int migrate() {
  log::set_component("migrate");
  const std::optional<Config> loaded = load_config(ConfigPurpose::migrate);
  if (!loaded) return 2;
  const Config& config = *loaded;
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
