#include "adapters/mysql/connection.h"

#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "adapters/mysql/datetime.h"
#include "adapters/mysql/errors.h"
#include "log/log.h"
#include "util/process_id.h"

namespace authd::mysql {
namespace {

// Schema changes and the migration lock wait legitimately take longer than
// a request; the migrator's reads and writes get at least this long.
constexpr unsigned kMigratorMinTimeoutS = 3600;

// Strict mode whatever the server's default: a value too long for its column
// (a hash, an address) is an error, never silently cut.
constexpr std::string_view kSessionSetup =
    "SET SESSION time_zone = '+00:00', SESSION sql_mode = "
    "'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY'";
constexpr std::string_view kIsolation = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";

void init_library_once() {
  // mysql_init() would do this implicitly, but not thread-safely.
  static std::once_flag once;
  std::call_once(once, [] {
    if (mysql_library_init(0, nullptr, nullptr) != 0) {
      throw StoreError("mysql: cannot initialise the client library");
    }
  });
}

// The statement as shown in messages: its text holds only placeholders, so
// it is safe to show; one line, cut to a readable length.
std::string statement_label(std::string_view sql) {
  std::string out;
  for (char c : sql) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : c);
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  constexpr std::size_t kMax = 100;
  if (out.size() > kMax) out = out.substr(0, kMax) + "...";
  return out;
}

[[noreturn]] void throw_failure(unsigned code_unsigned, std::string_view sqlstate,
                                std::string_view message, std::string_view step,
                                std::string_view sql) {
  const int code = static_cast<int>(code_unsigned);
  const std::string where = "mysql: " + std::string(step) + " of `" + statement_label(sql) + "`";
  if (code == error_code::kDuplicateEntry) {
    std::string key = duplicate_key_name(message);
    throw DuplicateKey(code, key, where + " hit duplicate key '" + key + "' (errno 1062)");
  }
  const std::string detail = " failed (errno " + std::to_string(code) + ", SQLSTATE " +
                             std::string(sqlstate) + "): " + redacted_server_message(code, message);
  if (is_connection_failure(code)) throw ConnectionLost(code, where + detail);
  throw SqlError(code, where + detail);
}

[[noreturn]] void throw_statement_failure(MYSQL_STMT* statement, std::string_view step,
                                          std::string_view sql) {
  throw_failure(mysql_stmt_errno(statement), mysql_stmt_sqlstate(statement),
                mysql_stmt_error(statement), step, sql);
}

[[noreturn]] void throw_connection_failure(MYSQL* connection, std::string_view step,
                                           std::string_view sql) {
  throw_failure(mysql_errno(connection), mysql_sqlstate(connection), mysql_error(connection), step,
                sql);
}

bool is_client_library_error(int code) {
  return code >= 2000 && code < 3000;
}

template <class... Visitors>
struct Overloaded : Visitors... {
  using Visitors::operator()...;
};
template <class... Visitors>
Overloaded(Visitors...) -> Overloaded<Visitors...>;

// The MYSQL_BIND array for a statement's input, with storage for the values
// the C API wants by address. Sized once, so the addresses stay put.
class BoundParams {
 public:
  explicit BoundParams(std::initializer_list<Param> params)
      : binds_(params.size()),
        integers_(params.size()),
        times_(params.size()),
        lengths_(params.size()) {
    std::size_t i = 0;
    for (const Param& param : params)
      bind(i++, param);
  }
  MYSQL_BIND* data() { return binds_.empty() ? nullptr : binds_.data(); }

 private:
  void bind(std::size_t i, const Param& param) {
    MYSQL_BIND& out = binds_[i];
    std::visit(Overloaded{
                   [&](std::nullptr_t) { out.buffer_type = MYSQL_TYPE_NULL; },
                   [&](std::int64_t value) {
                     integers_[i] = value;
                     out.buffer_type = MYSQL_TYPE_LONGLONG;
                     out.buffer = &integers_[i];
                   },
                   [&](std::string_view bytes) {
                     // BLOB-typed input is taken as binary by the server: no
                     // character set conversion, NULs kept.
                     static char empty = '\0';
                     lengths_[i] = bytes.size();
                     out.buffer_type = MYSQL_TYPE_BLOB;
                     out.buffer = bytes.empty() ? &empty : const_cast<char*>(bytes.data());
                     out.buffer_length = bytes.size();
                     out.length = &lengths_[i];
                   },
                   [&](DateTime time) {
                     times_[i] = to_mysql_time(time.seconds);
                     out.buffer_type = MYSQL_TYPE_DATETIME;
                     out.buffer = &times_[i];
                   },
               },
               param);
  }

  std::vector<MYSQL_BIND> binds_;
  std::vector<std::int64_t> integers_;
  std::vector<MYSQL_TIME> times_;
  std::vector<unsigned long> lengths_;
};

// Where one result column lands, chosen from its type in the metadata.
struct ColumnBuffer {
  enum class Kind { integer, time, bytes };
  Kind kind = Kind::bytes;
  bool is_unsigned = false;
  std::int64_t integer = 0;
  MYSQL_TIME time{};
  std::string bytes;
  unsigned long length = 0;
  my_bool is_null = 0;
  my_bool error = 0;
};

ColumnBuffer::Kind kind_of(enum_field_types type) {
  switch (type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
      return ColumnBuffer::Kind::integer;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
      return ColumnBuffer::Kind::time;
    default:
      return ColumnBuffer::Kind::bytes;
  }
}

Row::Cell cell_from(const ColumnBuffer& column, std::string_view sql) {
  if (column.is_null) return nullptr;
  switch (column.kind) {
    case ColumnBuffer::Kind::integer:
      if (column.is_unsigned && column.integer < 0) {
        throw StoreError("mysql: unsigned value beyond int64 in `" + statement_label(sql) + "`");
      }
      return column.integer;
    case ColumnBuffer::Kind::time:
      return DateTime{from_mysql_time(column.time)};
    case ColumnBuffer::Kind::bytes:
      if (column.length > column.bytes.size()) {
        throw StoreError("mysql: column truncated in `" + statement_label(sql) + "`");
      }
      return column.bytes.substr(0, column.length);
  }
  return nullptr;
}

}  // namespace

// ---- Row ----

const Row::Cell& Row::at(std::size_t column) const {
  if (column >= cells_.size()) {
    throw StoreError("mysql: result has no column " + std::to_string(column));
  }
  return cells_[column];
}

bool Row::is_null(std::size_t column) const {
  return std::holds_alternative<std::nullptr_t>(at(column));
}

std::int64_t Row::int64(std::size_t column) const {
  if (const auto* value = std::get_if<std::int64_t>(&at(column))) return *value;
  throw StoreError("mysql: result column " + std::to_string(column) + " is not an integer");
}

const std::string& Row::bytes(std::size_t column) const {
  if (const auto* value = std::get_if<std::string>(&at(column))) return *value;
  throw StoreError("mysql: result column " + std::to_string(column) + " is not a string");
}

std::string Row::bytes_or_empty(std::size_t column) const {
  return is_null(column) ? std::string() : bytes(column);
}

UnixSeconds Row::time(std::size_t column) const {
  if (const auto* value = std::get_if<DateTime>(&at(column))) return value->seconds;
  throw StoreError("mysql: result column " + std::to_string(column) + " is not a date and time");
}

std::optional<UnixSeconds> Row::optional_time(std::size_t column) const {
  if (is_null(column)) return std::nullopt;
  return time(column);
}

// ---- Connection ----

Connection::Connection(const DbSettings& settings, Account account)
    : settings_(settings),
      user_(account == Account::migrator && !settings.migrate_user.empty() ? settings.migrate_user
                                                                           : settings.user),
      password_(account == Account::migrator && !settings.migrate_user.empty()
                    ? settings.migrate_password
                    : settings.password),
      read_timeout_s_(account == Account::migrator
                          ? std::max(settings.read_timeout_s, kMigratorMinTimeoutS)
                          : settings.read_timeout_s),
      write_timeout_s_(account == Account::migrator
                           ? std::max(settings.write_timeout_s, kMigratorMinTimeoutS)
                           : settings.write_timeout_s) {
  init_library_once();
}

Connection::~Connection() {
  disconnect();
}

void Connection::disconnect() noexcept {
  handle_.reset();      // closes the connection, which detaches its statements,
  statements_.clear();  // so freeing them sends nothing
}

void Connection::forget_inherited_connection() noexcept {
  // Opened before a fork: the socket is shared with the parent, so closing
  // it here (COM_QUIT) would end the parent's session too. Abandon it.
  for (auto& [sql, statement] : statements_) {
    static_cast<void>(statement.release());
  }
  statements_.clear();
  static_cast<void>(handle_.release());
  transaction_ = TransactionState::none;
  log::warn("db_connection_inherited", {{"action", "reopen"}});
}

void Connection::ensure_open() {
  if (handle_ && owner_pid_ != current_pid()) forget_inherited_connection();
  if (!handle_) open();
}

void Connection::open() {
  ConnectionHandle handle(mysql_init(nullptr));
  if (!handle) throw StoreUnavailable("mysql: out of memory creating a connection");
  MYSQL* raw = handle.get();

  const my_bool yes = 1;
  const my_bool no = 0;
  const unsigned no_local_files = 0;
  const unsigned connect_timeout = settings_.connect_timeout_s;
  auto set_option = [&](mysql_option option, const void* value, const char* name) {
    if (mysql_options(raw, option, value) != 0) {
      throw StoreError(std::string("mysql: the client library refused option ") + name);
    }
  };
  set_option(MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout, "MYSQL_OPT_CONNECT_TIMEOUT");
  set_option(MYSQL_OPT_READ_TIMEOUT, &read_timeout_s_, "MYSQL_OPT_READ_TIMEOUT");
  set_option(MYSQL_OPT_WRITE_TIMEOUT, &write_timeout_s_, "MYSQL_OPT_WRITE_TIMEOUT");
  // Reconnecting behind our back would drop prepared statements and open
  // transactions silently; we reconnect ourselves, knowingly.
  set_option(MYSQL_OPT_RECONNECT, &no, "MYSQL_OPT_RECONNECT");
  set_option(MYSQL_OPT_LOCAL_INFILE, &no_local_files, "MYSQL_OPT_LOCAL_INFILE");
  set_option(MYSQL_SET_CHARSET_NAME, "utf8mb4", "MYSQL_SET_CHARSET_NAME");
  if (!settings_.ssl_ca.empty()) {
    set_option(MYSQL_OPT_SSL_CA, settings_.ssl_ca.c_str(), "MYSQL_OPT_SSL_CA");
    set_option(MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes, "MYSQL_OPT_SSL_VERIFY_SERVER_CERT");
    set_option(MYSQL_OPT_SSL_ENFORCE, &yes, "MYSQL_OPT_SSL_ENFORCE");
  } else if (settings_.ssl_required) {
    // Encrypted but unverified: what MYSQL_SSL without a CA asks for.
    set_option(MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no, "MYSQL_OPT_SSL_VERIFY_SERVER_CERT");
    set_option(MYSQL_OPT_SSL_ENFORCE, &yes, "MYSQL_OPT_SSL_ENFORCE");
  }

  // CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, so a
  // compare-and-swap that writes an unchanged value still counts as won.
  if (mysql_real_connect(raw, settings_.host.c_str(), user_.c_str(), password_.c_str(),
                         settings_.database.c_str(), settings_.port, nullptr,
                         CLIENT_FOUND_ROWS) == nullptr) {
    const int code = static_cast<int>(mysql_errno(raw));
    if (metrics_ != nullptr) metrics_->database_failure(DatabaseFailure::connect);
    throw ConnectionLost(code, "mysql: cannot connect to " + settings_.host + ":" +
                                   std::to_string(settings_.port) + " as '" + user_ + "' (errno " +
                                   std::to_string(code) + "): " + mysql_error(raw));
  }
  // libmariadb 3.3 enforces TLS at the handshake only when it verifies the
  // certificate; without a CA it falls back to clear text if the server
  // offers no TLS. Refuse such a connection here, before any query. (The
  // login itself sent no password in clear, a scramble or an RSA-encrypted
  // one, but only MYSQL_SSL_CA stops an active interposer before login.)
  if ((settings_.ssl_required || !settings_.ssl_ca.empty()) &&
      mysql_get_ssl_cipher(raw) == nullptr) {
    throw ConnectionLost(error_code::kSslConnectionError,
                         "mysql: TLS is required but the connection to " + settings_.host + ":" +
                             std::to_string(settings_.port) + " is not encrypted");
  }
  handle_ = std::move(handle);
  owner_pid_ = current_pid();
  if (metrics_ != nullptr && opened_before_) metrics_->database_reconnected();
  opened_before_ = true;
  try {
    run_text(kIsolation, "session setup");
    run_text(kSessionSetup, "session setup");
  } catch (...) {
    disconnect();  // never keep a connection that missed its setup
    throw;
  }
}

void Connection::run_text(std::string_view sql, std::string_view what) {
  MYSQL* raw = handle_.get();
  if (mysql_real_query(raw, sql.data(), sql.size()) != 0) throw_connection_failure(raw, what, sql);
  // A text statement may still answer with rows; read them so the
  // connection is ready for the next command.
  ResultHandle rows(mysql_store_result(raw));
  if (!rows && mysql_field_count(raw) != 0) throw_connection_failure(raw, what, sql);
}

MYSQL_STMT* Connection::prepared(std::string_view sql) {
  if (auto found = statements_.find(sql); found != statements_.end()) return found->second.get();
  StatementHandle statement(mysql_stmt_init(handle_.get()));
  if (!statement) throw_connection_failure(handle_.get(), "prepare", sql);
  if (mysql_stmt_prepare(statement.get(), sql.data(), sql.size()) != 0) {
    throw_statement_failure(statement.get(), "prepare", sql);
  }
  // Lets store_result compute each column's longest value, so result
  // buffers are sized once per execution.
  const my_bool update_max_length = 1;
  if (mysql_stmt_attr_set(statement.get(), STMT_ATTR_UPDATE_MAX_LENGTH, &update_max_length)) {
    throw_statement_failure(statement.get(), "prepare", sql);
  }
  return statements_.emplace(std::string(sql), std::move(statement)).first->second.get();
}

template <typename Step>
auto Connection::guarded(Step&& step) -> decltype(step()) {
  try {
    return step();
  } catch (const ConnectionLost&) {
    after_connection_lost();
    throw;
  } catch (const SqlError& error) {
    // A client-side failure (commands out of sync, ...) leaves the protocol
    // state in doubt: start from a fresh connection next time.
    if (is_client_library_error(error.code())) after_connection_lost();
    throw;
  }
}

void Connection::after_connection_lost() noexcept {
  // A connection that never opened was counted as a connect failure.
  if (metrics_ != nullptr && is_open()) metrics_->database_failure(DatabaseFailure::lost);
  disconnect();
  // The server rolled the transaction back with the session; statements
  // must not run on a new connection as if it were still open.
  if (transaction_ == TransactionState::open) transaction_ = TransactionState::broken;
}

Connection::Outcome Connection::run_once(std::string_view sql,
                                         std::initializer_list<Param> params) {
  if (transaction_ == TransactionState::broken) {
    throw ConnectionLost(error_code::kServerLost,
                         "mysql: the connection was lost inside this transaction; roll it back");
  }
  ensure_open();
  for (int attempt = 1;; ++attempt) {
    MYSQL_STMT* statement = prepared(sql);
    if (mysql_stmt_param_count(statement) != params.size()) {
      throw StoreError("mysql: `" + statement_label(sql) + "` takes " +
                       std::to_string(mysql_stmt_param_count(statement)) + " parameters, got " +
                       std::to_string(params.size()));
    }
    BoundParams bound(params);
    if (mysql_stmt_bind_param(statement, bound.data())) {
      throw_statement_failure(statement, "bind", sql);
    }
    if (mysql_stmt_execute(statement) != 0) {
      // The table changed under a kept statement (a migration ran): prepare
      // it afresh and run it once more; it has not run.
      if (mysql_stmt_errno(statement) == error_code::kNeedReprepare && attempt == 1) {
        statements_.erase(statements_.find(sql));
        continue;
      }
      throw_statement_failure(statement, "execute", sql);
    }
    Outcome outcome;
    if (mysql_stmt_field_count(statement) == 0) {
      outcome.affected_rows = mysql_stmt_affected_rows(statement);
    } else {
      outcome.rows = fetch_rows(statement, sql);
    }
    return outcome;
  }
}

Rows Connection::fetch_rows(MYSQL_STMT* statement, std::string_view sql) {
  struct FreeResultOnExit {
    MYSQL_STMT* statement;
    ~FreeResultOnExit() { mysql_stmt_free_result(statement); }
  } free_result{statement};

  if (mysql_stmt_store_result(statement) != 0) throw_statement_failure(statement, "fetch", sql);
  // Read after store_result: that is when max_length is filled in.
  ResultHandle metadata(mysql_stmt_result_metadata(statement));
  if (!metadata) throw_statement_failure(statement, "fetch", sql);
  const unsigned count = mysql_num_fields(metadata.get());
  const MYSQL_FIELD* fields = mysql_fetch_fields(metadata.get());

  std::vector<ColumnBuffer> columns(count);
  std::vector<MYSQL_BIND> binds(count);
  for (unsigned i = 0; i < count; ++i) {
    ColumnBuffer& column = columns[i];
    MYSQL_BIND& bind = binds[i];
    column.kind = kind_of(fields[i].type);
    bind.is_null = &column.is_null;
    bind.error = &column.error;
    bind.length = &column.length;
    switch (column.kind) {
      case ColumnBuffer::Kind::integer:
        column.is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
        bind.buffer_type = MYSQL_TYPE_LONGLONG;
        bind.buffer = &column.integer;
        bind.is_unsigned = column.is_unsigned;
        break;
      case ColumnBuffer::Kind::time:
        bind.buffer_type = MYSQL_TYPE_DATETIME;
        bind.buffer = &column.time;
        break;
      case ColumnBuffer::Kind::bytes:
        column.bytes.resize(std::max<unsigned long>(fields[i].max_length, 1));
        bind.buffer_type = MYSQL_TYPE_BLOB;
        bind.buffer = column.bytes.data();
        bind.buffer_length = column.bytes.size();
        break;
    }
  }
  if (count > 0 && mysql_stmt_bind_result(statement, binds.data())) {
    throw_statement_failure(statement, "fetch", sql);
  }

  Rows rows;
  rows.reserve(mysql_stmt_num_rows(statement));
  for (;;) {
    const int status = mysql_stmt_fetch(statement);
    if (status == MYSQL_NO_DATA) break;
    if (status == 1) throw_statement_failure(statement, "fetch", sql);
    // MYSQL_DATA_TRUNCATED cannot happen with buffers of max_length; a
    // column that did not fit is caught by cell_from all the same.
    std::vector<Row::Cell> cells;
    cells.reserve(count);
    for (const ColumnBuffer& column : columns)
      cells.push_back(cell_from(column, sql));
    rows.emplace_back(std::move(cells));
  }
  return rows;
}

Connection::Outcome Connection::run(std::string_view sql, std::initializer_list<Param> params,
                                    bool read_only) {
  try {
    return guarded([&] { return run_once(sql, params); });
  } catch (const ConnectionLost& lost) {
    const bool retry =
        read_only && transaction_ == TransactionState::none && read_may_be_retried(lost.code());
    if (!retry) throw;
    log::warn("db_connection_lost", {{"errno", lost.code()}, {"action", "retry_read"}});
  }
  return guarded([&] { return run_once(sql, params); });
}

Rows Connection::query(std::string_view sql, std::initializer_list<Param> params) {
  return run(sql, params, /*read_only=*/true).rows;
}

std::uint64_t Connection::execute(std::string_view sql, std::initializer_list<Param> params) {
  return run(sql, params, /*read_only=*/false).affected_rows;
}

void Connection::execute_unprepared(std::string_view sql) {
  guarded([&] {
    if (transaction_ == TransactionState::broken) {
      throw ConnectionLost(error_code::kServerLost,
                           "mysql: the connection was lost inside this transaction; roll it back");
    }
    ensure_open();
    run_text(sql, "statement");
  });
}

void Connection::begin() {
  if (transaction_ != TransactionState::none) {
    throw StoreError("mysql: a transaction is already open on this connection");
  }
  auto start = [&] {
    ensure_open();
    run_text("START TRANSACTION", "begin");
  };
  try {
    guarded(start);
  } catch (const ConnectionLost& lost) {
    // Nothing has happened yet: like a read, a BEGIN on a connection the
    // server dropped while idle may be sent again on a fresh one.
    if (!read_may_be_retried(lost.code())) throw;
    log::warn("db_connection_lost", {{"errno", lost.code()}, {"action", "retry_begin"}});
    guarded(start);
  }
  transaction_ = TransactionState::open;
}

void Connection::commit() {
  if (transaction_ == TransactionState::none) {
    throw StoreError("mysql: commit without an open transaction");
  }
  if (transaction_ == TransactionState::broken) {
    transaction_ = TransactionState::none;
    throw ConnectionLost(error_code::kServerLost,
                         "mysql: the connection was lost inside the transaction; it was rolled "
                         "back");
  }
  try {
    guarded([&] { run_text("COMMIT", "commit"); });
    transaction_ = TransactionState::none;
  } catch (const ConnectionLost& lost) {
    transaction_ = TransactionState::none;
    if (outcome_unknown(lost.code())) {
      throw StoreCommitUnknown(
          "mysql: the connection was lost waiting for COMMIT's answer (errno " +
          std::to_string(lost.code()) + "); the transaction may or may not have been applied");
    }
    throw;
  } catch (...) {
    // The server refused the commit; make sure nothing stays open.
    rollback();
    throw;
  }
}

void Connection::rollback() noexcept {
  const bool still_open = transaction_ == TransactionState::open && handle_ != nullptr;
  transaction_ = TransactionState::none;
  if (!still_open) return;
  try {
    guarded([&] { run_text("ROLLBACK", "rollback"); });
  } catch (...) {
    // A connection whose rollback failed is in an unknown state.
    disconnect();
  }
}

bool Connection::ping() noexcept {
  try {
    if (handle_ && owner_pid_ != current_pid()) forget_inherited_connection();
    if (handle_) {
      if (mysql_ping(handle_.get()) == 0) return true;
      after_connection_lost();
    }
    open();
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace authd::mysql
