#include "adapters/mysql/connection.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>

#include "adapters/mysql/conflict_retry.h"
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

// Galera: causal reads for one statement, and the barrier before a retry
// (MariaDB's SET STATEMENT; a prepared statement may carry it).
constexpr std::string_view kCausalPrefix = "SET STATEMENT wsrep_sync_wait=1 FOR ";
constexpr std::string_view kCatchUp = "SET STATEMENT wsrep_sync_wait=1 FOR SELECT 1";
// A statement inside a transaction never waits (MariaDB's
// wsrep_must_sync_wait: not in an active multi-statement transaction; a
// causal SELECT there is counted by no wsrep_causal_reads), so the
// transaction's start does: START TRANSACTION is a read for wsrep_sync_wait.
constexpr std::string_view kCausalBegin = "SET STATEMENT wsrep_sync_wait=1 FOR START TRANSACTION";
// Whether a server runs wsrep, and whether a node that does can take work.
// SHOW is answered even by a node out of the primary component (where a
// SELECT gets 1047). MySQL has no such variable: an empty answer.
constexpr std::string_view kWsrepOn = "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'";
constexpr std::string_view kWsrepState =
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state_comment')";
// A probe for failing back is not a request's connect: it waits no longer
// than this for an earlier node that may still be away.
constexpr unsigned kFailbackProbeTimeoutS = 1;

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
  if (is_conflict(code)) throw Conflict(code, where + detail);
  if (code == error_code::kLockWaitTimeout) throw ServerBusy(code, where + detail);
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
  hosts_ = parse_db_hosts(settings.host, settings.port);
  if (hosts_.empty()) throw StoreError("mysql: MYSQL_HOST is not host[:port] or a list of them");
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

bool Connection::closed_by_server() const noexcept {
  // Between statements the server has nothing to say: anything readable on
  // the socket is its goodbye (an error packet, then end of file) after it
  // was restarted, killed the session or timed it out. Seen here, the
  // connection is replaced before a statement is sent on it, so a write is
  // never lost to a connection that was already dead (no round trip: one
  // poll that does not wait).
  const my_socket fd = mysql_get_socket(handle_.get());
  if (fd < 0) return true;
  pollfd pfd{static_cast<int>(fd), POLLIN | POLLRDHUP, 0};
  if (::poll(&pfd, 1, 0) <= 0) return false;
  return (pfd.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

void Connection::ensure_open() {
  if (handle_ && owner_pid_ != current_pid()) forget_inherited_connection();
  if (handle_ && transaction_ == TransactionState::none && closed_by_server()) {
    log::warn("db_connection_lost", {{"action", "reopen"}, {"seen", "while idle"}});
    after_connection_lost();
  }
  if (handle_ && transaction_ == TransactionState::none && node_ > 0) fail_back_if_due();
  if (!handle_) open();
}

std::string Connection::node_label(int node) const {
  if (node < 0 || static_cast<std::size_t>(node) >= hosts_.size()) return "?";
  return db_host_label(hosts_[static_cast<std::size_t>(node)]);
}

void Connection::open() {
  // A server that could not be reached a moment ago is not tried again at
  // once: against a hung server every attempt costs the connect timeout,
  // and every request would pay it. Until the pause ends, requests get
  // their 503 at once (and /health/ready too).
  const auto now = std::chrono::steady_clock::now();
  if (now < unreachable_until_) {
    throw ConnectionLost(error_code::kConnHostError,
                         "mysql: " + settings_.host +
                             (hosts_.size() == 1 ? ":" + std::to_string(hosts_[0].port) : "") +
                             " could not be reached moments ago; not trying again yet");
  }
  try {
    open_now();
  } catch (const ConnectionLost& lost) {
    // Nodes that answered but could not take work (a cluster changing its
    // membership) are asked again sooner than servers that did not answer.
    unreachable_until_ =
        std::chrono::steady_clock::now() +
        (lost.code() == error_code::kNodeNotReady ? kUnusableNodePause : kUnreachablePause);
    throw;
  }
}

void Connection::open_now() {
  adopt(open_usable(0, hosts_.size(), settings_.connect_timeout_s, /*probing=*/false));
}

namespace {

// The rows of a SHOW statement as name → value pairs (text protocol).
std::vector<std::pair<std::string, std::string>> show(MYSQL* raw, std::string_view sql) {
  if (mysql_real_query(raw, sql.data(), sql.size()) != 0) {
    throw_connection_failure(raw, "node check", sql);
  }
  ResultHandle result(mysql_store_result(raw));
  if (!result) throw_connection_failure(raw, "node check", sql);
  std::vector<std::pair<std::string, std::string>> out;
  while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
    if (mysql_num_fields(result.get()) >= 2 && row[0] != nullptr && row[1] != nullptr) {
      out.emplace_back(row[0], row[1]);
    }
  }
  return out;
}

struct NodeState {
  bool wsrep = false;
  bool usable = false;
  std::string description;  // for the log line when not usable
};

// A server without wsrep is usable when it answers; a Galera node only when
// it is ready (in the primary component) and Synced (not joining, not a
// donor, not desynced): anything else would refuse queries (1047) or serve
// stale reads.
NodeState node_state(MYSQL* raw) {
  NodeState state;
  for (const auto& [name, value] : show(raw, kWsrepOn)) {
    if (name == "wsrep_on" && value == "ON") state.wsrep = true;
  }
  if (!state.wsrep) {
    state.usable = true;
    return state;
  }
  std::string ready = "?";
  std::string local_state = "?";
  for (const auto& [name, value] : show(raw, kWsrepState)) {
    if (name == "wsrep_ready") ready = value;
    if (name == "wsrep_local_state_comment") local_state = value;
  }
  state.usable = ready == "ON" && local_state == "Synced";
  state.description = "wsrep_ready=" + ready + ", " + local_state;
  return state;
}

}  // namespace

Connection::Opened Connection::open_usable(std::size_t first, std::size_t last,
                                           unsigned connect_timeout_s, bool probing) {
  std::string refused;
  int code = error_code::kConnHostError;
  for (std::size_t from = first; from < last;) {
    int landed = static_cast<int>(from);
    ConnectionHandle handle;
    try {
      handle = connect_any(from, last, connect_timeout_s, probing, &landed);
    } catch (const ConnectionLost& error) {
      // Connector/C goes down its list past the hosts that refuse the TCP
      // connection, but stops at one that accepts it and then fails the
      // handshake (a node shutting down resets it): that one is not known.
      // Then each of the rest, one by one.
      for (std::size_t i = from; i < last && !handle && last - from > 1; ++i) {
        try {
          handle = connect_any(i, i + 1, connect_timeout_s, probing, &landed);
        } catch (const ConnectionLost&) {
        }
      }
      if (!handle) {
        if (refused.empty()) throw;
        code = error.code();
        refused += "; ";
        refused += error.what();
        break;
      }
    }
    NodeState state;
    try {
      state = node_state(handle.get());
    } catch (const std::exception& error) {
      state.description = error.what();
    }
    if (state.usable) return Opened{std::move(handle), landed, state.wsrep};
    if (!probing) {
      log::warn("db_node_unusable", {{"node", node_label(landed)}, {"state", state.description}});
      if (metrics_ != nullptr) metrics_->database_failure(DatabaseFailure::unusable_node);
    }
    code = error_code::kNodeNotReady;
    if (!refused.empty()) refused += "; ";
    refused += node_label(landed);
    refused += " is not usable (";
    refused += state.description;
    refused += ")";
    from = static_cast<std::size_t>(landed) + 1;
  }
  throw ConnectionLost(code, "mysql: no usable database node: " + refused);
}

ConnectionHandle Connection::connect_any(std::size_t first, std::size_t last,
                                         unsigned connect_timeout_s, bool probing, int* landed) {
  ConnectionHandle handle(mysql_init(nullptr));
  if (!handle) throw StoreUnavailable("mysql: out of memory creating a connection");
  MYSQL* raw = handle.get();

  const my_bool yes = 1;
  const my_bool no = 0;
  const unsigned no_local_files = 0;
  const unsigned connect_timeout = connect_timeout_s;
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

  // One host: its name and port as they are. Several: Connector/C's own
  // list (`host:port,host:port`), which it tries in order until one
  // answers; which one did is asked afterwards.
  std::string target;
  const unsigned port = hosts_[first].port;
  if (last - first == 1) {
    target = hosts_[first].host;
  } else {
    for (std::size_t i = first; i < last; ++i) {
      if (!target.empty()) target += ',';
      target += db_host_label(hosts_[i]);
    }
  }
  const std::string shown = last - first == 1 ? db_host_label(hosts_[first]) : target;

  // CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, so a
  // compare-and-swap that writes an unchanged value still counts as won.
  if (mysql_real_connect(raw, target.c_str(), user_.c_str(), password_.c_str(),
                         settings_.database.c_str(), port, nullptr, CLIENT_FOUND_ROWS) == nullptr) {
    const int code = static_cast<int>(mysql_errno(raw));
    if (metrics_ != nullptr && !probing) metrics_->database_failure(DatabaseFailure::connect);
    throw ConnectionLost(code, "mysql: cannot connect to " + shown + " as '" + user_ + "' (errno " +
                                   std::to_string(code) + "): " + mysql_error(raw));
  }
  // libmariadb 3.3 enforces TLS at the handshake only when it verifies the
  // certificate; without a CA it falls back to clear text if the server
  // offers no TLS. Refuse such a connection here, before any query. (The
  // login itself sent no password in clear, a scramble or an RSA-encrypted
  // one, but only MYSQL_SSL_CA stops an active interposer before login.)
  if ((settings_.ssl_required || !settings_.ssl_ca.empty()) &&
      mysql_get_ssl_cipher(raw) == nullptr) {
    throw ConnectionLost(
        error_code::kSslConnectionError,
        "mysql: TLS is required but the connection to " + shown + " is not encrypted");
  }
  *landed = static_cast<int>(first);
  if (last - first > 1) {
    const char* host = nullptr;
    unsigned int connected_port = 0;
    if (mariadb_get_infov(raw, MARIADB_CONNECTION_HOST, &host) == 0 &&
        mariadb_get_infov(raw, MARIADB_CONNECTION_PORT, &connected_port) == 0 && host != nullptr) {
      for (std::size_t i = first; i < last; ++i) {
        if (hosts_[i].host == host && hosts_[i].port == connected_port) {
          *landed = static_cast<int>(i);
          break;
        }
      }
    }
  }
  return handle;
}

void Connection::adopt(Opened opened) {
  const int previous = opened_before_ ? last_node_ : opened.node;
  handle_ = std::move(opened.handle);
  node_ = opened.node;
  wsrep_ = opened.wsrep;
  owner_pid_ = current_pid();
  if (metrics_ != nullptr && opened_before_) metrics_->database_reconnected();
  opened_before_ = true;
  last_node_ = node_;
  if (node_ != previous) {
    log::info(
        "db_node_switch",
        {{"from", node_label(previous)}, {"to", node_label(node_)}, {"preferred", node_ == 0}});
  }
  // Away from the preferred node: ask again for it in a while.
  if (node_ > 0) {
    next_failback_probe_ =
        std::chrono::steady_clock::now() + std::chrono::seconds(settings_.failback_s);
  }
  try {
    run_text(kIsolation, "session setup");
    run_text(kSessionSetup, "session setup");
  } catch (...) {
    disconnect();  // never keep a connection that missed its setup
    throw;
  }
}

void Connection::fail_back_if_due() noexcept {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_failback_probe_) return;
  next_failback_probe_ = now + std::chrono::seconds(settings_.failback_s);
  try {
    Opened better = open_usable(0, static_cast<std::size_t>(node_),
                                std::min(settings_.connect_timeout_s, kFailbackProbeTimeoutS),
                                /*probing=*/true);
    // Between transactions: nothing is lost by leaving this connection.
    disconnect();
    adopt(std::move(better));
  } catch (...) {
    // The earlier nodes are still away (or the switch failed: the next
    // statement opens a connection the usual way).
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
  } catch (const ConnectionLost& lost) {
    if (lost.code() == error_code::kNodeNotReady) {
      // The node left the primary component (or is joining): the next
      // connection goes to another one.
      log::warn("db_node_unusable", {{"node", node_label(node_)}, {"errno", lost.code()}});
      if (metrics_ != nullptr) metrics_->database_failure(DatabaseFailure::unusable_node);
      const bool was_open = is_open();
      disconnect();
      if (was_open && transaction_ == TransactionState::open) {
        transaction_ = TransactionState::broken;
      }
      throw;
    }
    after_connection_lost();
    throw;
  } catch (const Conflict&) {
    // The server rolled the whole transaction back: nothing more may run
    // in it as if it were still open.
    if (transaction_ == TransactionState::open) transaction_ = TransactionState::conflicted;
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
  if (transaction_ == TransactionState::conflicted) {
    throw Conflict(error_code::kLockDeadlock,
                   "mysql: this transaction was rolled back by a conflict; run it again");
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

namespace {
// A statement that failed this quickly was refused by a closed connection
// (a restart, a kill); one that failed later timed out on a server that
// hangs, where a retry would only double the wait for the 503.
constexpr auto kQuickFailure = std::chrono::milliseconds(500);
}  // namespace

Connection::Outcome Connection::run(std::string_view sql, std::initializer_list<Param> params,
                                    bool read_only) {
  const auto started = std::chrono::steady_clock::now();
  try {
    return guarded([&] { return run_once(sql, params); });
  } catch (const ConnectionLost& lost) {
    const bool retry = read_only && transaction_ == TransactionState::none &&
                       read_may_be_retried(lost.code()) &&
                       std::chrono::steady_clock::now() - started < kQuickFailure;
    if (!retry) throw;
    log::warn("db_connection_lost", {{"errno", lost.code()}, {"action", "retry_read"}});
  }
  return guarded([&] { return run_once(sql, params); });
}

Rows Connection::query(std::string_view sql, std::initializer_list<Param> params) {
  return run(sql, params, /*read_only=*/true).rows;
}

Rows Connection::causal_query(std::string_view sql, std::initializer_list<Param> params) {
  // Inside a transaction its causal begin() has waited (the server would
  // skip a wait here anyway).
  if (transaction_ != TransactionState::none) return query(sql, params);
  // Whether the server runs wsrep is known once the connection is open.
  guarded([&] { ensure_open(); });
  if (!wsrep_) return query(sql, params);
  std::string causal;
  causal.reserve(kCausalPrefix.size() + sql.size());
  causal.append(kCausalPrefix).append(sql);
  return run(causal, params, /*read_only=*/true).rows;
}

void Connection::catch_up() {
  guarded([&] {
    ensure_open();
    if (wsrep_) run_text(kCatchUp, "catch up");
  });
}

std::uint64_t Connection::execute(std::string_view sql, std::initializer_list<Param> params) {
  // Inside a transaction a conflict ends the transaction: the runner runs
  // the whole unit again.
  if (transaction_ != TransactionState::none) return run(sql, params, false).affected_rows;
  ConflictRetry retry("statement", metrics_);
  bool moved_node = false;
  for (;;) {
    try {
      return run(sql, params, /*read_only=*/false).affected_rows;
    } catch (const Conflict& conflict) {
      // Rolled back by the server: run it again once this node has applied
      // what it lost to (a compare-and-swap then sees the winner's value).
      if (!retry.again(conflict.code())) {
        throw StoreUnavailable("mysql: `" + statement_label(sql) + "` lost to concurrent writes " +
                               std::to_string(retry.attempt()) + " times; nothing was written");
      }
      catch_up();
    } catch (const ConnectionLost& lost) {
      // A write is its own commit: an answer lost after it was sent leaves
      // it as uncertain as a lost COMMIT.
      if (outcome_unknown(lost.code())) {
        throw StoreCommitUnknown(
            "mysql: the connection was lost waiting for a write's answer (errno " +
            std::to_string(lost.code()) + "); it may or may not have been applied");
      }
      // A node out of the primary component refused it before running it:
      // once more, on the usable node the next connection goes to.
      if (lost.code() != error_code::kNodeNotReady || moved_node) throw;
      moved_node = true;
    }
  }
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
    run_text(wsrep_ ? kCausalBegin : std::string_view("START TRANSACTION"), "begin");
  };
  const auto started = std::chrono::steady_clock::now();
  try {
    guarded(start);
  } catch (const ConnectionLost& lost) {
    // Nothing has happened yet: like a read, a BEGIN on a connection the
    // server dropped while idle may be sent again on a fresh one.
    if (!read_may_be_retried(lost.code()) ||
        std::chrono::steady_clock::now() - started >= kQuickFailure) {
      throw;
    }
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
  if (transaction_ == TransactionState::conflicted) {
    rollback();
    throw Conflict(error_code::kLockDeadlock,
                   "mysql: the transaction was rolled back by a conflict; run it again");
  }
  try {
    guarded([&] { run_text("COMMIT", "commit"); });
    transaction_ = TransactionState::none;
  } catch (const ConnectionLost& lost) {
    transaction_ = TransactionState::none;
    // 1047 at COMMIT: the node dropped out of the primary component while
    // the commit was on its way; whether the cluster ordered it first is not
    // known here.
    if (outcome_unknown(lost.code()) || lost.code() == error_code::kNodeNotReady) {
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
  const bool still_open =
      (transaction_ == TransactionState::open || transaction_ == TransactionState::conflicted) &&
      handle_ != nullptr;
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
      // A Galera node must still be usable, not only answer: one out of the
      // primary component answers pings and refuses queries.
      bool usable = mysql_ping(handle_.get()) == 0;
      if (usable && wsrep_) {
        try {
          usable = node_state(handle_.get()).usable;
        } catch (...) {
          usable = false;
        }
      }
      if (usable) return true;
      after_connection_lost();
    }
    open();
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace authd::mysql
