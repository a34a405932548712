#pragma once
// The schema's numbered migrations (sql/NNN_name.sql, compiled in) and the
// runner that applies them. Only `authd migrate` runs them, with the account
// allowed to change the schema; the server only reads the version.
#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace authd::mysql {

class Connection;

// One numbered file of sql/, compiled into the binary.
struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Every file of sql/, in version order (generated at build time).
const std::vector<Migration>& embedded_migrations();

inline int latest_schema_version() {
  const auto& all = embedded_migrations();
  return all.empty() ? 0 : all.back().version;
}

// The statements of one migration file. Split simply: a statement ends with
// a line whose last non-blank character is `;`; lines starting with `--`
// are comments and dropped. So a `;` that ends a line inside a string
// literal, or a statement followed by a comment on its last line, is not
// supported: migrations are written for this splitter.
std::vector<std::string> split_sql_statements(std::string_view script);

// The highest version recorded in schema_migrations, 0 when that table does
// not exist yet. Needs only SELECT, so the server's account can check it.
int read_schema_version(Connection& connection);

using MigrationProgress = std::function<void(std::string_view line)>;

// How long migrate waits for a migration another migrate claimed.
inline constexpr std::chrono::milliseconds kClaimWait{60000};

// Brings the schema up to date: applies in order every migration newer than
// the recorded version and reports one line per migration ("applying
// 001_users_sessions … done in 35 ms"), or "schema is up to date (version
// N)". Each migration is claimed first by inserting its schema_migrations
// row (state 'applying'; 'applied' once its statements are through): no
// GET_LOCK, which is node-local on a Galera cluster, while the row's primary
// key holds on every node. Safe to run twice, and from two processes at once,
// through one server or two nodes (the loser of a claim waits for the
// winner to finish that migration, re-reads, and goes on). DDL commits
// implicitly, so a migration that fails half-way keeps its earlier
// statements: write them re-runnable (IF NOT EXISTS); its claim is withdrawn.
// Throws SqlError with a message naming the migration account when the
// account may not change the schema, StoreError when a claim stays open
// longer than kClaimWait (the message says what to check and delete).
void migrate(Connection& connection, const MigrationProgress& progress);

// The same with a given list (tests), and a given wait for claims.
void migrate(Connection& connection, std::span<const Migration> migrations,
             const MigrationProgress& progress);
void migrate(Connection& connection, std::span<const Migration> migrations,
             const MigrationProgress& progress, std::chrono::milliseconds claim_wait);

}  // namespace authd::mysql
