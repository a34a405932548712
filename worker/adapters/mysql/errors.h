#pragma once
// How the MySQL adapter reports failures, on top of the ports' StoreError and
// StoreUnavailable. Messages name the statement (its SQL text, which holds
// only `?` placeholders) and the error number, never a bound value: those may
// be password hashes, refresh-token digests or email addresses.
#include <string>
#include <string_view>
#include <utility>

#include "ports/store_errors.h"

namespace authd::mysql {

// A statement failed for a reason other than a lost connection: refused by
// the server (syntax, privileges, constraint, ...) or by the client library.
class SqlError : public StoreError {
 public:
  SqlError(int code, const std::string& what) : StoreError(what), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// ER_DUP_ENTRY: a unique key already holds the value. `key` is the index
// name ("users_email", "PRIMARY"), so a store can tell which rule was hit.
class DuplicateKey : public SqlError {
 public:
  DuplicateKey(int code, std::string key, const std::string& what)
      : SqlError(code, what), key_(std::move(key)) {}
  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

// The transaction (or autocommit statement) lost to a concurrent one: a
// deadlock victim, or on a Galera cluster (MySQL Group Replication alike) a
// write set that failed certification against a commit made through another
// node (1213, from any statement or from COMMIT). The server rolled it back
// whole; MysqlTransactionRunner runs it again from the start.
class Conflict : public SqlError {
 public:
  using SqlError::SqlError;
};

// The server gave up waiting: a lock wait timeout (1205), or a causal read
// whose node could not catch up in time. Nothing was changed by the
// statement; the database is busy, not broken (503, not 500).
class ServerBusy : public StoreUnavailable {
 public:
  ServerBusy(int code, const std::string& what) : StoreUnavailable(what), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// The link to the server failed: connect refused or timed out, connection
// lost, or killed on the server. `code` is the client or server error number.
class ConnectionLost : public StoreUnavailable {
 public:
  ConnectionLost(int code, const std::string& what) : StoreUnavailable(what), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

namespace error_code {
inline constexpr int kDuplicateEntry = 1062;            // ER_DUP_ENTRY
inline constexpr int kTableAccessDenied = 1142;         // ER_TABLEACCESS_DENIED_ERROR
inline constexpr int kDbAccessDenied = 1044;            // ER_DBACCESS_DENIED_ERROR
inline constexpr int kSpecificAccessDenied = 1227;      // ER_SPECIFIC_ACCESS_DENIED_ERROR
inline constexpr int kNoSuchTable = 1146;               // ER_NO_SUCH_TABLE
inline constexpr int kNeedReprepare = 1615;             // ER_NEED_REPREPARE
inline constexpr int kConnectionError = 2002;           // CR_CONNECTION_ERROR (socket)
inline constexpr int kConnHostError = 2003;             // CR_CONN_HOST_ERROR (TCP)
inline constexpr int kServerGone = 2006;                // CR_SERVER_GONE_ERROR: send failed
inline constexpr int kServerLost = 2013;                // CR_SERVER_LOST: no answer
inline constexpr int kSslConnectionError = 2026;        // CR_SSL_CONNECTION_ERROR
inline constexpr int kServerLostExtended = 2055;        // CR_SERVER_LOST_EXTENDED (libmysqlclient)
inline constexpr int kServerShutdown = 1053;            // ER_SERVER_SHUTDOWN
inline constexpr int kConnectionKilled = 1927;          // ER_CONNECTION_KILLED (MariaDB)
inline constexpr int kClientInteractionTimeout = 4031;  // MySQL 8: closed after wait_timeout
inline constexpr int kLockWaitTimeout = 1205;           // ER_LOCK_WAIT_TIMEOUT
inline constexpr int kUnknownVariable = 1193;           // ER_UNKNOWN_SYSTEM_VARIABLE
inline constexpr int kBadField = 1054;                  // ER_BAD_FIELD_ERROR
inline constexpr int kDuplicateFieldName = 1060;        // ER_DUP_FIELDNAME
// A transaction chosen as a deadlock victim, or (Galera) one that failed
// certification against a write committed through another node: rolled
// back whole, on any statement or on COMMIT.
inline constexpr int kLockDeadlock = 1213;  // ER_LOCK_DEADLOCK
// MySQL Group Replication's certification failure at COMMIT.
inline constexpr int kGroupReplicationRollback = 3101;  // ER_TRANSACTION_ROLLBACK_DURING_COMMIT
// Galera: the node is not in the primary component (lost its quorum) or is
// still joining: "WSREP has not yet prepared node for application use".
inline constexpr int kNodeNotReady = 1047;  // ER_UNKNOWN_COM_ERROR
}  // namespace error_code

// True for errors after which the connection is unusable and must be
// reopened (connect failures included). A node refusing work (1047) is one:
// the next connection goes to another node.
bool is_connection_failure(int code) noexcept;

// True when the server rolled the whole transaction back because it lost
// to a concurrent one (deadlock victim, failed certification): nothing of
// it was applied, and running it again from the start is safe.
bool is_conflict(int code) noexcept;

// True for a connection found lost while using it (not one that could not be
// opened): a read, or a BEGIN, may be run once more on a fresh connection.
bool read_may_be_retried(int code) noexcept;

// True when the answer to a statement, not its sending, was lost: the server
// may have executed it (a COMMIT may have committed).
bool outcome_unknown(int code) noexcept;

// The index name in an ER_DUP_ENTRY message: MariaDB says
// "... for key 'users_email'", MySQL 8 "... for key 'users.users_email'";
// both give "users_email". Empty when the message has no key.
std::string duplicate_key_name(std::string_view message);

// The server's message, unless that error number's message quotes the
// offending value (duplicate entries, incorrect values): then a placeholder.
std::string redacted_server_message(int code, std::string_view message);

}  // namespace authd::mysql
