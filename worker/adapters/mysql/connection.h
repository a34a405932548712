#pragma once
// One connection to MySQL / MariaDB, as a worker process holds it: opened on
// first use (the pool forks after building it), reopened after a loss, and
// speaking server-side prepared statements, each prepared once per
// connection and kept.
//
// Not thread-safe: one connection serves one request at a time.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "adapters/mysql/handles.h"
#include "config/config.h"
#include "ports/clock.h"
#include "ports/metrics_sink.h"

namespace authd::mysql {

// Which account a connection logs in with: the server's own (data rights
// only) or the one allowed to change the schema.
enum class Account { app, migrator };

// A DATETIME value, as Unix seconds UTC. A type of its own so that a time is
// never bound as a plain integer by mistake.
struct DateTime {
  UnixSeconds seconds = 0;
};

// The value bound to one `?`. A string_view binds raw bytes (NULs allowed,
// sent as binary, never converted by a character set); it need only outlive
// the call.
using Param = std::variant<std::nullptr_t, std::int64_t, std::string_view, DateTime>;

inline Param time_or_null(std::optional<UnixSeconds> seconds) {
  if (!seconds) return nullptr;
  return DateTime{*seconds};
}

// One result row, already converted from the wire: integers to int64,
// DATE/DATETIME/TIMESTAMP to Unix seconds, everything else to bytes.
// Accessors throw StoreError when the column is NULL or of another kind
// (a schema mismatch, not a condition to handle).
class Row {
 public:
  using Cell = std::variant<std::nullptr_t, std::int64_t, std::string, DateTime>;

  explicit Row(std::vector<Cell> cells) : cells_(std::move(cells)) {}

  std::size_t size() const noexcept { return cells_.size(); }
  bool is_null(std::size_t column) const;
  std::int64_t int64(std::size_t column) const;
  const std::string& bytes(std::size_t column) const;
  UnixSeconds time(std::size_t column) const;
  std::optional<UnixSeconds> optional_time(std::size_t column) const;
  // NULL reads as empty: for optional digests where "none" has no other form.
  std::string bytes_or_empty(std::size_t column) const;

 private:
  const Cell& at(std::size_t column) const;
  std::vector<Cell> cells_;
};

using Rows = std::vector<Row>;

class Connection {
 public:
  // Connects nothing: the first statement (or ping) opens the connection.
  Connection(const DbSettings& settings, Account account);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // `sql` is constant text with `?` placeholders (it keys the statement
  // cache); values go in `params`, never into the text.
  //
  // A statement that only reads. Outside a transaction, when the connection
  // turns out to be lost (the server closed it while idle, was restarted),
  // it is run once more on a fresh connection.
  Rows query(std::string_view sql, std::initializer_list<Param> params = {});

  // A statement that writes; never retried (it may have been applied).
  // Returns the affected rows, which, with CLIENT_FOUND_ROWS, are the rows
  // matched by an UPDATE's WHERE even when no value changed.
  // Throws DuplicateKey for ER_DUP_ENTRY.
  std::uint64_t execute(std::string_view sql, std::initializer_list<Param> params = {});

  // A statement without input and without result (DDL, SET, KILL), through
  // the text protocol. Never retried. Callers pass only constant text.
  void execute_unprepared(std::string_view sql);

  // Transactions (see MysqlTransactionRunner). begin() inside a transaction
  // is a bug and throws StoreError. commit() throws StoreCommitUnknown when
  // the connection is lost while waiting for the answer. rollback() never
  // throws: after a lost connection the server has rolled back already.
  void begin();
  void commit();
  void rollback() noexcept;
  bool in_transaction() const noexcept { return transaction_ != TransactionState::none; }

  // Whether the server answers, opening the connection if needed (and
  // reopening it once if the kept one was lost). Never throws: it backs
  // `/health/ready`.
  bool ping() noexcept;

  // Closes the connection (if open); the next use reopens it.
  void disconnect() noexcept;
  bool is_open() const noexcept { return handle_ != nullptr; }

  // The account name, for messages (never the password).
  const std::string& user() const noexcept { return user_; }

  // Where connect failures, lost connections and reconnects are reported
  // (none until set).
  void set_metrics(MetricsSink* sink) noexcept { metrics_ = sink; }

 private:
  enum class TransactionState { none, open, broken };
  struct Outcome {
    Rows rows;
    std::uint64_t affected_rows = 0;
  };

  void ensure_open();
  void open();
  void forget_inherited_connection() noexcept;
  MYSQL_STMT* prepared(std::string_view sql);
  Outcome run(std::string_view sql, std::initializer_list<Param> params, bool read_only);
  Outcome run_once(std::string_view sql, std::initializer_list<Param> params);
  Rows fetch_rows(MYSQL_STMT* statement, std::string_view sql);
  void run_text(std::string_view sql, std::string_view what);
  // Runs `step`; a lost connection closes it (and breaks an open
  // transaction) before the exception leaves.
  template <typename Step>
  auto guarded(Step&& step) -> decltype(step());
  void after_connection_lost() noexcept;

  DbSettings settings_;
  std::string user_;
  std::string password_;
  unsigned read_timeout_s_;
  unsigned write_timeout_s_;
  TransactionState transaction_ = TransactionState::none;
  pid_t owner_pid_ = 0;
  MetricsSink* metrics_ = nullptr;
  bool opened_before_ = false;  // a later open is a reconnect
  // Declared before the connection handle so that, on destruction, the
  // connection is closed first (which detaches its statements) and the
  // statements are then freed without talking to the server.
  std::map<std::string, StatementHandle, std::less<>> statements_;
  ConnectionHandle handle_;
};

}  // namespace authd::mysql
