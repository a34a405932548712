// The connection layer against a real server: binding and reading every
// kind of value, error reporting, keeping statements prepared, and what
// happens when the connection is lost.
#include "adapters/mysql/connection.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <thread>

#include "adapters/mysql/datetime.h"
#include "adapters/mysql/errors.h"
#include "adapters/mysql/transaction_runner.h"
#include "adapters/mysql/user_store.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

using mysql::DateTime;
using mysql::DuplicateKey;
using mysql::Rows;
using mysql::SqlError;

// A TCP port on 127.0.0.1 that accepts connections and never says a word,
// as a hung server does. Closed when the returned guard goes.
struct SilentServer {
  int fd = -1;
  unsigned port = 0;
  SilentServer() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(fd, 16);
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  ~SilentServer() { close(fd); }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
};

std::int64_t session_status(Connection& connection, std::string_view name) {
  const Rows rows = connection.query(
      "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = ?",
      {name});
  return std::stoll(rows.at(0).bytes(0));
}

class ConnectionTest : public StoreTest {};

TEST_F(ConnectionTest, ConnectsOnlyOnFirstUse) {
  DbSettings nowhere = db_settings();
  nowhere.port = closed_port();
  Connection unreachable(nowhere, Account::app);  // must not throw: nothing is opened yet
  EXPECT_FALSE(unreachable.is_open());

  auto connection = new_app_connection();
  EXPECT_FALSE(connection->is_open());
  connection->query("SELECT 1");
  EXPECT_TRUE(connection->is_open());
}

TEST_F(ConnectionTest, SessionIsUtcReadCommittedAndStrict) {
  const Rows rows =
      app().query("SELECT @@session.time_zone, @@session.tx_isolation, @@session.sql_mode");
  EXPECT_EQ(rows.at(0).bytes(0), "+00:00");
  EXPECT_EQ(rows.at(0).bytes(1), "READ-COMMITTED");
  EXPECT_NE(rows.at(0).bytes(2).find("STRICT_ALL_TABLES"), std::string::npos);
}

TEST_F(ConnectionTest, RoundTripsEveryKindOfValue) {
  // A temporary table lives in the migrator's session only: no schema change.
  migrator().execute_unprepared(
      "CREATE TEMPORARY TABLE kinds (id INT PRIMARY KEY, i BIGINT NULL, b VARBINARY(8192) NULL,"
      " t DATETIME NULL)");
  const std::string binary("\x00\x01\xff\x00zero\x00", 9);
  const std::string large(5000, '\xab');
  const std::int64_t low = std::numeric_limits<std::int64_t>::min();
  const std::int64_t high = std::numeric_limits<std::int64_t>::max();
  const char* insert = "INSERT INTO kinds (id, i, b, t) VALUES (?, ?, ?, ?)";
  migrator().execute(
      insert, {std::int64_t{1}, low, std::string_view(binary), DateTime{mysql::kEarliestDatetime}});
  migrator().execute(
      insert, {std::int64_t{2}, high, std::string_view(large), DateTime{mysql::kLatestDatetime}});
  migrator().execute(insert, {std::int64_t{3}, nullptr, std::string_view(""), DateTime{0}});
  migrator().execute(insert, {std::int64_t{4}, std::int64_t{0}, nullptr, nullptr});

  const Rows rows = migrator().query("SELECT id, i, b, t FROM kinds ORDER BY id");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].int64(1), low);
  EXPECT_EQ(rows[0].bytes(2), binary);
  EXPECT_EQ(rows[0].time(3), mysql::kEarliestDatetime);
  EXPECT_EQ(rows[1].int64(1), high);
  EXPECT_EQ(rows[1].bytes(2), large);
  EXPECT_EQ(rows[1].time(3), mysql::kLatestDatetime);
  EXPECT_TRUE(rows[2].is_null(1));
  EXPECT_FALSE(rows[2].is_null(2));  // empty is a value, not NULL
  EXPECT_EQ(rows[2].bytes(2), "");
  EXPECT_EQ(rows[2].time(3), 0);
  EXPECT_TRUE(rows[3].is_null(2));
  EXPECT_EQ(rows[3].optional_time(3), std::nullopt);
  EXPECT_EQ(rows[3].bytes_or_empty(2), "");

  // Binary parameters compare as bytes in WHERE too.
  EXPECT_EQ(migrator()
                .query("SELECT id FROM kinds WHERE b = ?", {std::string_view(binary)})
                .at(0)
                .int64(0),
            1);
  EXPECT_THROW(rows[3].bytes(2), StoreError);  // NULL read as a value
  EXPECT_THROW(rows[0].time(2), StoreError);   // wrong kind
}

TEST_F(ConnectionTest, KeepsEachStatementPreparedOncePerConnection) {
  const char* sql = "SELECT COUNT(*) FROM users WHERE email = ?";
  app().query(sql, {std::string_view("a@example.com")});  // prepared here
  const std::int64_t before = session_status(app(), "COM_STMT_PREPARE");
  for (int i = 0; i < 5; ++i)
    app().query(sql, {std::string_view("b@example.com")});
  EXPECT_EQ(session_status(app(), "COM_STMT_PREPARE"), before);
}

TEST_F(ConnectionTest, DuplicateKeyNamesTheKeyButNotTheValue) {
  const User user = sample_user("dup-secret@example.com");
  const char* insert =
      "INSERT INTO users (id, email, password_hash, created_at, password_changed_at)"
      " VALUES (?, ?, ?, ?, ?)";
  app().execute(insert, {user.id.as_bytes(), user.email, user.password_hash,
                         DateTime{user.created_at}, DateTime{user.password_changed_at}});
  const Uuid other = random_uuid();
  try {
    app().execute(insert, {other.as_bytes(), user.email, user.password_hash,
                           DateTime{user.created_at}, DateTime{user.password_changed_at}});
    FAIL() << "no DuplicateKey";
  } catch (const DuplicateKey& duplicate) {
    EXPECT_EQ(duplicate.key(), "users_email");
    EXPECT_EQ(duplicate.code(), 1062);
    EXPECT_EQ(std::string(duplicate.what()).find("dup-secret"), std::string::npos);
  }
}

TEST_F(ConnectionTest, ErrorsNameTheStatementNeverTheValues) {
  const std::string too_long = "secret-" + std::string(300, 'x') + "@example.com";
  try {
    app().execute(
        "INSERT INTO users (id, email, password_hash, created_at, password_changed_at)"
        " VALUES (?, ?, ?, ?, ?)",
        {random_uuid().as_bytes(), std::string_view(too_long), std::string_view("hash-secret"),
         DateTime{0}, DateTime{0}});
    FAIL() << "no SqlError";
  } catch (const SqlError& error) {
    const std::string what = error.what();
    EXPECT_EQ(error.code(), 1406);  // ER_DATA_TOO_LONG: strict mode refuses to cut
    EXPECT_NE(what.find("INSERT INTO users"), std::string::npos) << what;
    EXPECT_NE(what.find("1406"), std::string::npos) << what;
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;
  }
}

TEST_F(ConnectionTest, WrongParameterCountIsAStoreError) {
  EXPECT_THROW(app().query("SELECT ? + ?", {std::int64_t{1}}), StoreError);
}

TEST_F(ConnectionTest, ReadAfterKillIsRetriedOnAFreshConnection) {
  const std::int64_t before = session_id(app());
  kill_session(app());
  std::int64_t after = 0;
  EXPECT_NO_THROW(after = session_id(app()));
  EXPECT_NE(after, before);
}

TEST_F(ConnectionTest, WriteAfterKillGoesToAFreshConnection) {
  const char* touch = "UPDATE users SET disabled_at = ? WHERE id = ?";
  const Uuid nobody = random_uuid();
  app().execute(touch, {DateTime{1}, nobody.as_bytes()});  // prepared and kept
  const std::int64_t before = session_id(app());
  kill_session(app());
  // The server closes the killed session's socket; the idle connection is
  // seen closed before the write is sent, so the write is not lost.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_NO_THROW(app().execute(touch, {DateTime{2}, nobody.as_bytes()}));
  EXPECT_NE(session_id(app()), before);
}

TEST_F(ConnectionTest, AnAutocommitWriteWhoseAnswerIsLostIsOfUnknownOutcome) {
  // A row lock held elsewhere keeps the UPDATE waiting past the read
  // timeout: the client gives up, the server applies it once the lock goes.
  mysql::MysqlUserStore users(app());
  const User user = sample_user("unknown@example.com");
  ASSERT_EQ(users.insert(user), UserStore::InsertResult::inserted);
  auto holder = new_app_connection();
  holder->begin();
  holder->query("SELECT id FROM users WHERE id = ? FOR UPDATE", {user.id.as_bytes()});
  DbSettings impatient = db_settings();
  impatient.read_timeout_s = 1;
  Connection writer(impatient, Account::app);
  EXPECT_THROW(writer.execute("UPDATE users SET disabled_at = ? WHERE id = ?",
                              {DateTime{5}, user.id.as_bytes()}),
               StoreCommitUnknown);
  holder->rollback();
  // Applied after all, once the lock was released: the outcome really was
  // unknown when the client gave up.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto stored = users.find_by_id(user.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->disabled_at, std::optional<UnixSeconds>(5));
}

TEST_F(ConnectionTest, AHungServerCostsTheConnectTimeoutOnceNotEveryTime) {
  SilentServer hung;
  DbSettings settings = db_settings();
  settings.port = hung.port;
  settings.connect_timeout_s = 1;
  Connection connection(settings, Account::app);
  auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(connection.query("SELECT 1"), StoreUnavailable);
  const auto first = std::chrono::steady_clock::now() - started;
  EXPECT_GE(first, std::chrono::milliseconds(900));
  EXPECT_LT(first, std::chrono::seconds(3));
  // Within the pause: at once.
  started = std::chrono::steady_clock::now();
  EXPECT_THROW(connection.query("SELECT 1"), StoreUnavailable);
  EXPECT_FALSE(connection.ping());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
  // After it, tried again (and waits again).
  std::this_thread::sleep_for(Connection::kUnreachablePause);
  started = std::chrono::steady_clock::now();
  EXPECT_FALSE(connection.ping());
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
}

TEST_F(ConnectionTest, LostConnectionInsideATransactionIsNotSilentlyReplaced) {
  mysql::MysqlUserStore users(app());
  app().begin();
  ASSERT_EQ(users.insert(sample_user("in-tx@example.com")), UserStore::InsertResult::inserted);
  kill_session(app());
  EXPECT_THROW(users.find_by_email("in-tx@example.com"), StoreUnavailable);  // no retry in a tx
  // Still refused: running on a new connection would be outside the transaction.
  EXPECT_THROW(users.insert(sample_user("after@example.com")), StoreUnavailable);
  EXPECT_THROW(app().commit(), StoreUnavailable);
  EXPECT_FALSE(app().in_transaction());
  EXPECT_EQ(count_rows("users"), 0);
  EXPECT_NO_THROW(users.insert(sample_user("later@example.com")));
}

TEST_F(ConnectionTest, BeginAfterKillIsRetried) {
  mysql::MysqlUserStore users(app());
  mysql::MysqlTransactionRunner transactions(app());
  app().query("SELECT 1");
  kill_session(app());
  EXPECT_NO_THROW(
      transactions.in_transaction([&] { users.insert(sample_user("begin@example.com")); }));
  EXPECT_EQ(count_rows("users"), 1);
}

TEST_F(ConnectionTest, PingIsFalseWithinTheConnectTimeoutWhenNothingListens) {
  DbSettings nowhere = db_settings();
  nowhere.port = closed_port();
  nowhere.connect_timeout_s = 2;
  Connection connection(nowhere, Account::app);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(connection.ping());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  EXPECT_THROW(connection.query("SELECT 1"), StoreUnavailable);
}

TEST_F(ConnectionTest, PingIsTrueAgainstTheLiveServerEvenAfterAKill) {
  auto connection = new_app_connection();
  EXPECT_TRUE(connection->ping());  // opens
  EXPECT_TRUE(connection->is_open());
  kill_session(*connection);
  EXPECT_TRUE(connection->ping());  // reopens
}

TEST_F(ConnectionTest, WrongPasswordIsUnavailableAndPingFalse) {
  DbSettings wrong = db_settings();
  wrong.password = "not-the-password";
  Connection connection(wrong, Account::app);
  EXPECT_FALSE(connection.ping());
  try {
    connection.query("SELECT 1");
    FAIL() << "connected with a wrong password";
  } catch (const StoreUnavailable& unavailable) {
    EXPECT_EQ(std::string(unavailable.what()).find("not-the-password"), std::string::npos);
  }
}

TEST_F(ConnectionTest, RequiredTlsIsEnforced) {
  // Whichever server the tests run against: with TLS required, a connection
  // is either encrypted or refused, never silently in clear.
  const std::string server_tls = app().query("SELECT @@have_ssl").at(0).bytes(0);
  DbSettings tls = db_settings();
  tls.ssl_required = true;
  if (const char* ca = std::getenv("MYSQL_SSL_CA")) tls.ssl_ca = ca;  // verify when given
  Connection connection(tls, Account::app);
  if (server_tls == "YES") {
    const Rows cipher = connection.query(
        "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
        " WHERE VARIABLE_NAME = 'SSL_CIPHER'");
    EXPECT_FALSE(cipher.at(0).bytes(0).empty());
  } else {
    EXPECT_FALSE(connection.ping());
    EXPECT_THROW(connection.query("SELECT 1"), StoreUnavailable);
  }
}

TEST_F(ConnectionTest, AChildProcessOpensItsOwnConnection) {
  const std::int64_t parent_session = session_id(app());
  int pipe_ends[2];
  ASSERT_EQ(pipe(pipe_ends), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::int64_t id = -1;
    try {
      id = session_id(app());
    } catch (...) {
    }
    const auto written = write(pipe_ends[1], &id, sizeof id);
    _exit(written == sizeof id ? 0 : 1);
  }
  std::int64_t child_session = 0;
  ASSERT_EQ(read(pipe_ends[0], &child_session, sizeof child_session),
            static_cast<ssize_t>(sizeof child_session));
  int status = 0;
  waitpid(child, &status, 0);
  close(pipe_ends[0]);
  close(pipe_ends[1]);
  EXPECT_GT(child_session, 0);
  EXPECT_NE(child_session, parent_session);
  EXPECT_EQ(session_id(app()), parent_session);  // the parent's session survived
}

}  // namespace
}  // namespace authd::store_test
