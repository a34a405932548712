#pragma once
// One connection to MySQL / MariaDB, as a worker process holds it: opened on
// first use (the pool forks after building it), reopened after a loss, and
// speaking server-side prepared statements, each prepared once per
// connection and kept.
//
// Several servers (MYSQL_HOST as a list, a Galera cluster's nodes, the first
// preferred): the connection goes to the first one that answers and is
// usable (a Galera node: wsrep_ready=ON and Synced; a server without wsrep:
// answering is enough), moves on when its node dies, leaves the primary
// component (1047) or is found not Synced, and between transactions, at most
// every MYSQL_FAILBACK_S, asks whether an earlier node is usable again and
// moves back to it. So a pool writes through one node at a time.
//
// Not thread-safe: one connection serves one request at a time.
#include <sys/types.h>

#include <chrono>
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
  // After a failed connect, how long statements fail at once (503) before
  // the next attempt: recovery after the database is back waits at most this.
  static constexpr std::chrono::milliseconds kUnreachablePause{1000};
  // The same when every node answered but none could take work (joining,
  // out of the primary component): cheap to ask, and soon over.
  static constexpr std::chrono::milliseconds kUnusableNodePause{200};

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

  // As query(), for a read that decides whether a token, session, link,
  // challenge or key is still good: causal. On a Galera node the statement
  // first waits until the node has applied every write committed anywhere in
  // the cluster before it (wsrep_sync_wait=1 for this statement only), so a
  // session revoked through another node is seen revoked here, and a token
  // issued through another node is found. Without wsrep, a plain query().
  // Inside a transaction Galera waits for no statement (MariaDB skips
  // wsrep_sync_wait while a multi-statement transaction is active): there
  // the transaction's start has waited instead (begin()), and this is a
  // plain query().
  Rows causal_query(std::string_view sql, std::initializer_list<Param> params = {});

  // A statement that writes; never retried when it may have been applied.
  // Outside a transaction, a write whose answer was lost throws
  // StoreCommitUnknown (it is its own commit), and a write that lost to a
  // concurrent one (1213, which the server rolled back) is run again like a
  // transaction (ConflictRetry; StoreUnavailable when it keeps losing).
  // Inside one, a conflict throws Conflict and leaves the transaction
  // refusing every further statement (MysqlTransactionRunner runs the unit
  // again). Returns the affected rows, which, with CLIENT_FOUND_ROWS, are the
  // rows matched by an UPDATE's WHERE even when no value changed. Throws
  // DuplicateKey for ER_DUP_ENTRY.
  std::uint64_t execute(std::string_view sql, std::initializer_list<Param> params = {});

  // A statement without input and without result (DDL, SET, KILL), through
  // the text protocol. Never retried. Callers pass only constant text.
  void execute_unprepared(std::string_view sql);

  // Transactions (see MysqlTransactionRunner). On a Galera node begin() is
  // causal: the transaction starts once the node has applied every write
  // committed anywhere before it, so its reads (locking or not) decide on
  // them. begin() inside a transaction is a bug and throws StoreError.
  // commit() throws StoreCommitUnknown when the connection is lost while
  // waiting for the answer. rollback() never throws: after a lost
  // connection the server has rolled back already.
  void begin();
  void commit();
  void rollback() noexcept;
  bool in_transaction() const noexcept { return transaction_ != TransactionState::none; }

  // Whether the server answers (and, a Galera node, is still usable),
  // opening the connection if needed (and reopening it once if the kept one
  // was lost or its node is no longer usable). Never throws: it backs
  // `/health/ready`.
  bool ping() noexcept;

  // Closes the connection (if open); the next use reopens it.
  void disconnect() noexcept;
  bool is_open() const noexcept { return handle_ != nullptr; }

  // The account name, for messages (never the password).
  const std::string& user() const noexcept { return user_; }

  // Which MYSQL_HOST entry the open connection is on (0: the preferred
  // one), -1 while closed; and whether that server runs wsrep (Galera), so
  // causal_query waits for it.
  int node_index() const noexcept { return handle_ ? node_ : -1; }
  bool causal_reads() const noexcept { return handle_ != nullptr && wsrep_; }
  const std::vector<DbHost>& hosts() const noexcept { return hosts_; }

  // Where connect failures, lost connections and reconnects are reported
  // (none until set).
  void set_metrics(MetricsSink* sink) noexcept { metrics_ = sink; }
  MetricsSink* metrics() const noexcept { return metrics_; }

 private:
  // broken: the connection was lost inside it; conflicted: the server
  // rolled it back (1213). Either way every further statement fails.
  enum class TransactionState { none, open, broken, conflicted };

  // Before an autocommit write runs again after it lost to a concurrent
  // one: returns once this node has applied every write committed anywhere
  // before now, so a compare-and-swap sees the winner's value. Nothing
  // without wsrep. (A transaction needs none: its begin() is causal.)
  void catch_up();
  struct Outcome {
    Rows rows;
    std::uint64_t affected_rows = 0;
  };

  // What a freshly opened connection is worth.
  struct Opened {
    ConnectionHandle handle;
    int node = 0;
    bool wsrep = false;
  };

  void ensure_open();
  bool closed_by_server() const noexcept;
  void open();
  void open_now();
  // The first usable node of hosts_[first, last), in order; throws
  // ConnectionLost when none is.
  // `probing`: a failback probe, which reports nothing (it asks every
  // MYSQL_FAILBACK_S whether a node is back; its refusals are expected).
  Opened open_usable(std::size_t first, std::size_t last, unsigned connect_timeout_s, bool probing);
  ConnectionHandle connect_any(std::size_t first, std::size_t last, unsigned connect_timeout_s,
                               bool probing, int* landed);
  void adopt(Opened opened);
  void fail_back_if_due() noexcept;
  std::string node_label(int node) const;
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
  std::vector<DbHost> hosts_;
  int node_ = 0;        // hosts_ index of the open connection
  int last_node_ = 0;   // ... and of the one before (to log a switch)
  bool wsrep_ = false;  // its server runs wsrep: causal reads wait
  std::chrono::steady_clock::time_point next_failback_probe_{};
  std::string user_;
  std::string password_;
  unsigned read_timeout_s_;
  unsigned write_timeout_s_;
  TransactionState transaction_ = TransactionState::none;
  pid_t owner_pid_ = 0;
  std::chrono::steady_clock::time_point unreachable_until_{};
  MetricsSink* metrics_ = nullptr;
  bool opened_before_ = false;  // a later open is a reconnect
  // Declared before the connection handle so that, on destruction, the
  // connection is closed first (which detaches its statements) and the
  // statements are then freed without talking to the server.
  std::map<std::string, StatementHandle, std::less<>> statements_;
  ConnectionHandle handle_;
};

}  // namespace authd::mysql
