#include "adapters/mysql/migrations.h"

#include <chrono>

#include "adapters/mysql/connection.h"
#include "adapters/mysql/errors.h"

namespace authd::mysql {
namespace {

constexpr std::string_view kLockName = "authd_migrate";
constexpr std::string_view kTakeLock = "SELECT GET_LOCK('authd_migrate', 60)";
constexpr std::string_view kReleaseLock = "SELECT RELEASE_LOCK('authd_migrate')";
// Whether this session is the one holding the lock: a read retried on a new
// connection would otherwise carry on without it.
constexpr std::string_view kHoldsLock = "SELECT IS_USED_LOCK('authd_migrate') = CONNECTION_ID()";
constexpr std::string_view kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(255) NOT NULL,"
    " applied_at DATETIME NOT NULL"
    ") ENGINE=InnoDB";
constexpr std::string_view kReadVersion = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr std::string_view kRecordVersion =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)";

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

// Releases the migration lock however migrate() ends. Losing the connection
// releases it too, so a failed release is of no consequence.
class HeldLock {
 public:
  explicit HeldLock(Connection& connection) : connection_(connection) {
    const Rows answer = connection_.query(kTakeLock);
    if (answer.empty() || answer[0].is_null(0) || answer[0].int64(0) != 1) {
      throw StoreError("migrate: another migration has held the lock '" + std::string(kLockName) +
                       "' for 60 s; try again when it has finished");
    }
  }
  ~HeldLock() {
    try {
      if (connection_.is_open()) connection_.query(kReleaseLock);
    } catch (...) {
    }
  }
  HeldLock(const HeldLock&) = delete;
  HeldLock& operator=(const HeldLock&) = delete;

  void confirm() {
    const Rows answer = connection_.query(kHoldsLock);
    if (answer.empty() || answer[0].is_null(0) || answer[0].int64(0) != 1) {
      throw StoreUnavailable("migrate: the connection holding the lock '" + std::string(kLockName) +
                             "' was lost; run migrate again");
    }
  }

 private:
  Connection& connection_;
};

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
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  connection.execute(kRecordVersion, {std::int64_t{migration.version},
                                      std::string_view(migration.name), DateTime{now.count()}});
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
    throw;
  }
}

void migrate(Connection& connection, const MigrationProgress& progress) {
  migrate(connection, embedded_migrations(), progress);
}

void migrate(Connection& connection, std::span<const Migration> migrations,
             const MigrationProgress& progress) {
  if (connection.in_transaction()) throw StoreError("migrate: cannot run inside a transaction");
  HeldLock lock(connection);
  try {
    connection.execute_unprepared(kCreateVersionTable);
  } catch (const SqlError& error) {
    if (!is_access_denied(error.code())) throw;
    throw SqlError(error.code(),
                   "migrate: the account '" + connection.user() + "' may not change the schema (" +
                       error.what() +
                       "). Run migrate with MYSQL_MIGRATE_USER / MYSQL_MIGRATE_PASSWORD naming "
                       "an account with DDL rights on the database.");
  }

  // Read under the lock: another process may have migrated while we waited.
  const int recorded = read_schema_version(connection);
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (recorded >= latest) {
    progress(recorded == latest ? "schema is up to date (version " + std::to_string(recorded) + ")"
                                : "schema version " + std::to_string(recorded) +
                                      " is newer than this build knows (" + std::to_string(latest) +
                                      "); nothing to do");
    return;
  }
  for (const Migration& migration : migrations) {
    if (migration.version <= recorded) continue;
    lock.confirm();
    const auto started = std::chrono::steady_clock::now();
    apply(connection, migration);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    progress("applying " + std::string(migration.name) + " … done in " +
             std::to_string(took.count()) + " ms");
  }
}

}  // namespace authd::mysql
