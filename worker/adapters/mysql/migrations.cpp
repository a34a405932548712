#include "adapters/mysql/migrations.h"

#include <chrono>
#include <thread>

#include "adapters/mysql/connection.h"
#include "adapters/mysql/errors.h"

namespace authd::mysql {
namespace {

// A migration is claimed by inserting its row first, in state 'applying'
// (the primary key lets one migrator have it, on one server or on any node
// of a cluster: GET_LOCK would be node-local on Galera), and marked
// 'applied' when its statements are through. Rows written before claims
// existed read as applied (the column's default).
constexpr std::string_view kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(255) NOT NULL,"
    " applied_at DATETIME NOT NULL,"
    " state VARCHAR(16) NOT NULL DEFAULT 'applied'"
    ") ENGINE=InnoDB";
constexpr std::string_view kHasStateColumn =
    "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
    " AND TABLE_NAME = 'schema_migrations' AND COLUMN_NAME = 'state'";
constexpr std::string_view kAddStateColumn =
    "ALTER TABLE schema_migrations ADD COLUMN state VARCHAR(16) NOT NULL DEFAULT 'applied'";
constexpr std::string_view kReadVersion =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE state = 'applied'";
// A table made before claims: every row is an applied migration.
constexpr std::string_view kReadVersionWithoutClaims =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr std::string_view kClaim =
    "INSERT INTO schema_migrations (version, name, applied_at, state) VALUES (?, ?, ?, 'applying')";
constexpr std::string_view kMarkApplied =
    "UPDATE schema_migrations SET state = 'applied', applied_at = ? WHERE version = ?"
    " AND state = 'applying'";
constexpr std::string_view kDropClaim =
    "DELETE FROM schema_migrations WHERE version = ? AND state = 'applying'";
constexpr std::string_view kClaimState =
    "SELECT state, applied_at FROM schema_migrations WHERE version = ?";

UnixSeconds wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kBlank = " \t\r\n";
  const auto first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kBlank);
  return text.substr(first, last - first + 1);
}

bool is_access_denied(int code) {
  return code == error_code::kTableAccessDenied || code == error_code::kDbAccessDenied ||
         code == error_code::kSpecificAccessDenied;
}

void apply(Connection& connection, const Migration& migration) {
  const std::vector<std::string> statements = split_sql_statements(migration.sql);
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const std::string where = "migrate: " + std::string(migration.name) + ", statement " +
                              std::to_string(i + 1) + " of " + std::to_string(statements.size());
    try {
      connection.execute_unprepared(statements[i]);
    } catch (const ConnectionLost& lost) {
      throw ConnectionLost(lost.code(), where + ": " + lost.what());
    } catch (const SqlError& error) {
      throw SqlError(error.code(), where + ": " + error.what());
    }
  }
}

enum class Claim { ours, applied_by_another };

// Claims `migration` (its row, state 'applying'). When another migrator
// holds it, waits for that one to finish it ("stop and re-read"), for at
// most `wait`; a claim still open then is reported, not taken over: its
// migrator may still be running, or may have died half-way (DDL commits as
// it goes), which only a person can judge.
Claim claim(Connection& connection, const Migration& migration, std::chrono::milliseconds wait) {
  try {
    connection.execute(kClaim, {std::int64_t{migration.version}, std::string_view(migration.name),
                                DateTime{wall_seconds()}});
    return Claim::ours;
  } catch (const DuplicateKey&) {
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const Rows row = connection.causal_query(kClaimState, {std::int64_t{migration.version}});
    if (row.empty()) {
      // Given up meanwhile (its migrator failed and withdrew): ours to try.
      return claim(connection, migration,
                   std::chrono::duration_cast<std::chrono::milliseconds>(
                       deadline - std::chrono::steady_clock::now()));
    }
    if (row[0].bytes(0) == "applied") return Claim::applied_by_another;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw StoreError(
          "migrate: " + std::string(migration.name) + " was claimed by another migrate at " +
          std::to_string(row[0].time(1)) +
          " (Unix time) and is still not applied. If no other migrate is running, it died "
          "half-way: check the schema against sql/" +
          migration.name + ".sql, then DELETE FROM schema_migrations WHERE version = " +
          std::to_string(migration.version) + " AND state = 'applying', and migrate again");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void add_claims_to_an_old_table(Connection& connection) {
  if (!connection.query(kHasStateColumn).empty()) return;
  try {
    connection.execute_unprepared(kAddStateColumn);
  } catch (const SqlError& error) {
    // Another migrator added it a moment ago.
    if (error.code() != error_code::kDuplicateFieldName) throw;
  }
}

}  // namespace

std::vector<std::string> split_sql_statements(std::string_view script) {
  std::vector<std::string> statements;
  std::string current;
  auto finish = [&] {
    const auto text = trim(current);
    if (!text.empty()) statements.emplace_back(text);
    current.clear();
  };
  while (!script.empty()) {
    const auto end = script.find('\n');
    const std::string_view line = script.substr(0, end);
    script = end == std::string_view::npos ? std::string_view() : script.substr(end + 1);

    const std::string_view content = trim(line);
    if (content.empty() || content.starts_with("--")) continue;
    if (content.ends_with(';')) {
      current.append(content.substr(0, content.size() - 1));
      finish();
    } else {
      current.append(content);
      current.push_back('\n');
    }
  }
  finish();
  return statements;
}

int read_schema_version(Connection& connection) {
  try {
    const Rows rows = connection.query(kReadVersion);
    return rows.empty() ? 0 : static_cast<int>(rows[0].int64(0));
  } catch (const SqlError& error) {
    if (error.code() == error_code::kNoSuchTable) return 0;
    if (error.code() != error_code::kBadField) throw;
  }
  const Rows rows = connection.query(kReadVersionWithoutClaims);
  return rows.empty() ? 0 : static_cast<int>(rows[0].int64(0));
}

void migrate(Connection& connection, const MigrationProgress& progress) {
  migrate(connection, embedded_migrations(), progress);
}

void migrate(Connection& connection, std::span<const Migration> migrations,
             const MigrationProgress& progress) {
  migrate(connection, migrations, progress, kClaimWait);
}

void migrate(Connection& connection, std::span<const Migration> migrations,
             const MigrationProgress& progress, std::chrono::milliseconds claim_wait) {
  if (connection.in_transaction()) throw StoreError("migrate: cannot run inside a transaction");
  try {
    connection.execute_unprepared(kCreateVersionTable);
    add_claims_to_an_old_table(connection);
  } catch (const SqlError& error) {
    if (!is_access_denied(error.code())) throw;
    throw SqlError(error.code(),
                   "migrate: the account '" + connection.user() + "' may not change the schema (" +
                       error.what() +
                       "). Run migrate with MYSQL_MIGRATE_USER / MYSQL_MIGRATE_PASSWORD naming "
                       "an account with DDL rights on the database.");
  }

  const int recorded = read_schema_version(connection);
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (recorded >= latest) {
    progress(recorded == latest ? "schema is up to date (version " + std::to_string(recorded) + ")"
                                : "schema version " + std::to_string(recorded) +
                                      " is newer than this build knows (" + std::to_string(latest) +
                                      "); nothing to do");
    return;
  }
  bool applied_any = false;
  for (const Migration& migration : migrations) {
    if (migration.version <= recorded) continue;
    if (claim(connection, migration, claim_wait) == Claim::applied_by_another) continue;
    const auto started = std::chrono::steady_clock::now();
    try {
      apply(connection, migration);
      connection.execute(kMarkApplied, {DateTime{wall_seconds()}, std::int64_t{migration.version}});
    } catch (...) {
      // Withdraw the claim, so that a fixed migration can run again (what
      // its earlier statements did stays: DDL commits as it goes).
      try {
        connection.execute(kDropClaim, {std::int64_t{migration.version}});
      } catch (...) {
      }
      throw;
    }
    applied_any = true;
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    progress("applying " + std::string(migration.name) + " … done in " +
             std::to_string(took.count()) + " ms");
  }
  // Everything was applied by another migrate while this one waited.
  if (!applied_any) progress("schema is up to date (version " + std::to_string(latest) + ")");
}

}  // namespace authd::mysql
