#include "adapters/mysql/migrations.h"

#include <barrier>
#include <mutex>
#include <thread>

#include "adapters/mysql/errors.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

using mysql::embedded_migrations;
using mysql::latest_schema_version;
using mysql::migrate;
using mysql::Migration;
using mysql::read_schema_version;
using mysql::SqlError;

using Lines = std::vector<std::string>;

Lines run_migrate(Connection& connection) {
  Lines lines;
  migrate(connection, [&](std::string_view line) { lines.emplace_back(line); });
  return lines;
}

std::string up_to_date_line() {
  return "schema is up to date (version " + std::to_string(latest_schema_version()) + ")";
}

bool is_applying_line(const std::string& line, std::string_view name) {
  return line.starts_with("applying " + std::string(name) + " … done in ") && line.ends_with(" ms");
}

class MigrationTest : public StoreTest {
 protected:
  void TearDown() override {
    // Leave the schema as every other test expects it.
    Connection connection(db_settings(), Account::migrator);
    connection.execute_unprepared("DROP TABLE IF EXISTS migration_test_table");
    run_migrate(connection);
  }

  std::int64_t recorded_versions() { return count_rows("schema_migrations"); }
};

TEST_F(MigrationTest, SecondRunChangesNothing) {
  const std::int64_t before = recorded_versions();
  EXPECT_EQ(run_migrate(migrator()), Lines{up_to_date_line()});
  EXPECT_EQ(run_migrate(migrator()), Lines{up_to_date_line()});
  EXPECT_EQ(recorded_versions(), before);
}

TEST_F(MigrationTest, FreshDatabaseGetsEveryMigrationInOrder) {
  drop_schema();
  auto connection = std::make_unique<Connection>(db_settings(), Account::migrator);
  const Lines lines = run_migrate(*connection);
  const auto& all = embedded_migrations();
  ASSERT_EQ(lines.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_TRUE(is_applying_line(lines[i], all[i].name)) << lines[i];
  }
  EXPECT_EQ(read_schema_version(*connection), latest_schema_version());
  EXPECT_EQ(recorded_versions(), static_cast<std::int64_t>(all.size()));
  EXPECT_EQ(count_rows("users"), 0);  // the tables are there
  EXPECT_EQ(count_rows("sessions"), 0);
}

TEST_F(MigrationTest, TwoMigratorsAtOnceApplyEachMigrationOnce) {
  drop_schema();
  std::mutex mutex;
  Lines lines;
  std::vector<std::string> failures;
  std::barrier start(2);
  auto migrator_thread = [&] {
    Connection connection(db_settings(), Account::migrator);
    connection.query("SELECT 1");  // connected before the race starts
    start.arrive_and_wait();
    try {
      migrate(connection, [&](std::string_view line) {
        std::lock_guard lock(mutex);
        lines.emplace_back(line);
      });
    } catch (const std::exception& error) {
      std::lock_guard lock(mutex);
      failures.emplace_back(error.what());
    }
  };
  std::thread first(migrator_thread);
  std::thread second(migrator_thread);
  first.join();
  second.join();

  EXPECT_TRUE(failures.empty()) << failures.front();
  const auto& all = embedded_migrations();
  for (const Migration& migration : all) {
    EXPECT_EQ(std::count_if(
                  lines.begin(), lines.end(),
                  [&](const std::string& line) { return is_applying_line(line, migration.name); }),
              1)
        << migration.name;
  }
  // The two may share the work (each claims the next migration it finds
  // unclaimed); one that found everything done says so.
  EXPECT_LE(std::count(lines.begin(), lines.end(), up_to_date_line()), 1);
  EXPECT_EQ(recorded_versions(), static_cast<std::int64_t>(all.size()));
}

TEST_F(MigrationTest, AppAccountCanReadTheVersion) {
  EXPECT_EQ(read_schema_version(app()), latest_schema_version());
  drop_schema();
  auto fresh_app = new_app_connection();
  EXPECT_EQ(read_schema_version(*fresh_app), 0);  // no table yet: version 0, no error
}

TEST_F(MigrationTest, AppAccountCannotChangeTheSchema) {
  try {
    app().execute_unprepared("CREATE TABLE migration_test_table (x INT)");
    FAIL() << "the app account ran DDL";
  } catch (const SqlError& error) {
    EXPECT_EQ(error.code(), 1142);  // ER_TABLEACCESS_DENIED_ERROR
  }
  try {
    run_migrate(app());
    FAIL() << "migrate ran with the app account";
  } catch (const SqlError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("may not change the schema"), std::string::npos) << what;
    EXPECT_NE(what.find("MYSQL_MIGRATE_USER"), std::string::npos) << what;
  }
}

TEST_F(MigrationTest, AppAccountCannotMigrateAFreshDatabase) {
  drop_schema();
  auto fresh_app = new_app_connection();
  EXPECT_THROW(run_migrate(*fresh_app), SqlError);
  EXPECT_EQ(read_schema_version(*fresh_app), 0);
}

TEST_F(MigrationTest, FailingMigrationNamesItselfAndStopsThere) {
  const std::vector<Migration> migrations = {
      embedded_migrations().front(),
      {1000, "1000_broken", "CREATE TABLE migration_test_table (x INT);\nTHIS IS NOT SQL;\n"},
      {1001, "1001_never", "CREATE TABLE migration_never (x INT);\n"},
  };
  Lines lines;
  try {
    migrate(migrator(), migrations, [&](std::string_view line) { lines.emplace_back(line); });
    FAIL() << "the broken migration passed";
  } catch (const SqlError& error) {
    EXPECT_NE(std::string(error.what()).find("1000_broken, statement 2 of 2"), std::string::npos)
        << error.what();
  }
  EXPECT_TRUE(lines.empty());  // 001 was already there; 1000 never finished
  EXPECT_EQ(read_schema_version(migrator()), latest_schema_version());
  EXPECT_TRUE(migrator()
                  .query("SELECT 1 FROM information_schema.TABLES"
                         " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'migration_never'")
                  .empty());
  EXPECT_TRUE(migrator().query("SELECT 1 FROM schema_migrations WHERE version = 1000").empty())
      << "the failed migration's claim is withdrawn: a fixed one may run";
}

// Claims instead of GET_LOCK (node-local on Galera): the row is the lock.
// Another migrate's claim is waited for, and once that one marks it applied,
// this one goes on without applying it again.
TEST_F(MigrationTest, AMigrationClaimedByAnotherIsWaitedForThenSkipped) {
  migrator().execute(
      "INSERT INTO schema_migrations (version, name, applied_at, state)"
      " VALUES (1000, '1000_elsewhere', '2024-01-01 00:00:00', 'applying')");
  const std::vector<Migration> migrations = {
      embedded_migrations().front(),
      {1000, "1000_elsewhere", "CREATE TABLE migration_test_table (x INT PRIMARY KEY);\n"},
  };
  std::thread other_migrator([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    Connection other(db_settings(), Account::migrator);
    other.execute("UPDATE schema_migrations SET state = 'applied' WHERE version = 1000");
  });
  Lines lines;
  const auto started = std::chrono::steady_clock::now();
  migrate(
      migrator(), migrations, [&](std::string_view line) { lines.emplace_back(line); },
      std::chrono::milliseconds(10000));
  other_migrator.join();
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(400));
  EXPECT_EQ(lines, Lines{"schema is up to date (version 1000)"});
  EXPECT_TRUE(migrator()
                  .query("SELECT 1 FROM information_schema.TABLES"
                         " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'migration_test_table'")
                  .empty())
      << "applied by the other one, not again";
  EXPECT_EQ(read_schema_version(app()), 1000);
  migrator().execute("DELETE FROM schema_migrations WHERE version = 1000");
}

// A claim nobody finishes (its migrate died half-way) is reported with what
// to do, never taken over silently.
TEST_F(MigrationTest, AClaimNeverFinishedIsReportedNotTakenOver) {
  migrator().execute(
      "INSERT INTO schema_migrations (version, name, applied_at, state)"
      " VALUES (1000, '1000_stuck', '2024-01-01 00:00:00', 'applying')");
  const std::vector<Migration> migrations = {
      embedded_migrations().front(),
      {1000, "1000_stuck", "CREATE TABLE migration_test_table (x INT PRIMARY KEY);\n"}};
  try {
    migrate(
        migrator(), migrations, [](std::string_view) {}, std::chrono::milliseconds(300));
    FAIL() << "a stale claim was taken over";
  } catch (const StoreError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("1000_stuck was claimed by another migrate"), std::string::npos) << what;
    EXPECT_NE(what.find("DELETE FROM schema_migrations WHERE version = 1000"), std::string::npos)
        << what;
  }
  EXPECT_EQ(read_schema_version(app()), latest_schema_version()) << "a claim is not a version";
  migrator().execute("DELETE FROM schema_migrations WHERE version = 1000");
}

// A schema_migrations table from before claims (no state column): the
// server still reads its version, and migrate adds the column, every old
// row applied.
TEST_F(MigrationTest, AVersionTableFromBeforeClaimsIsReadAndUpgraded) {
  migrator().execute_unprepared("ALTER TABLE schema_migrations DROP COLUMN state");
  auto fresh_app = new_app_connection();
  EXPECT_EQ(read_schema_version(*fresh_app), latest_schema_version());
  EXPECT_EQ(run_migrate(migrator()), Lines{up_to_date_line()});
  EXPECT_EQ(read_schema_version(*new_app_connection()), latest_schema_version());
  EXPECT_EQ(migrator()
                .query("SELECT COUNT(*) FROM schema_migrations WHERE state = 'applied'")
                .at(0)
                .int64(0),
            recorded_versions());
}

// Galera certifies write sets by primary key: a table without one is
// accepted, and then replicates wrongly or not at all. Every table of the
// schema has one.
TEST_F(MigrationTest, EveryTableHasAPrimaryKey) {
  const auto tables_without = migrator().query(
      "SELECT t.TABLE_NAME FROM information_schema.TABLES t"
      " LEFT JOIN information_schema.TABLE_CONSTRAINTS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA"
      " AND c.TABLE_NAME = t.TABLE_NAME AND c.CONSTRAINT_TYPE = 'PRIMARY KEY'"
      " WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'"
      " AND c.CONSTRAINT_NAME IS NULL");
  std::string names;
  for (const auto& row : tables_without)
    names += row.bytes(0) + " ";
  EXPECT_TRUE(tables_without.empty()) << "tables without a primary key: " << names;
  EXPECT_GE(migrator()
                .query("SELECT COUNT(*) FROM information_schema.TABLES"
                       " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")
                .at(0)
                .int64(0),
            9)
      << "the schema is there to be checked";
}

}  // namespace
}  // namespace authd::store_test
