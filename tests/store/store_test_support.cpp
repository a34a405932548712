#include "store_test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <thread>

#include "adapters/mysql/migrations.h"

namespace authd::store_test {
namespace {

std::string required_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    // Loud, and no test runs: a store test that silently passes without a
    // database proves nothing.
    std::fprintf(stderr,
                 "store_tests: %s is not set. These tests need a real MariaDB/MySQL; run them "
                 "with scripts/store-tests.sh BUILD_DIR.\n",
                 name);
    std::exit(2);
  }
  return value;
}

DbSettings settings_from_env() {
  DbSettings settings;
  settings.host = required_env("MYSQL_HOST");
  settings.port = static_cast<unsigned>(std::stoul(required_env("MYSQL_PORT")));
  settings.user = required_env("MYSQL_USER");
  settings.password = required_env("MYSQL_PASSWORD");
  settings.database = required_env("MYSQL_DB");
  settings.migrate_user = required_env("MYSQL_MIGRATE_USER");
  settings.migrate_password = required_env("MYSQL_MIGRATE_PASSWORD");
  return settings;
}

class StoreEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    Connection migrator(db_settings(), Account::migrator);
    mysql::migrate(migrator, [](std::string_view line) {
      std::fprintf(stderr, "store_tests: %.*s\n", static_cast<int>(line.size()), line.data());
    });
  }
};

// gtest owns registered environments and deletes them at exit.
[[maybe_unused]] ::testing::Environment* const registered =
    ::testing::AddGlobalTestEnvironment(new StoreEnvironment);

}  // namespace

const DbSettings& db_settings() {
  static const DbSettings settings = settings_from_env();
  return settings;
}

Uuid random_uuid() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  Uuid id;
  for (auto& byte : id.bytes)
    byte = static_cast<std::uint8_t>(generator());
  return id;
}

User sample_user(std::string email) {
  User user;
  user.id = random_uuid();
  user.email = std::move(email);
  user.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
  user.created_at = 1'700'000'000;
  user.password_changed_at = 1'700'086'400;
  return user;
}

Session sample_session(const Uuid& user_id) {
  Session session;
  session.id = random_uuid();
  session.user_id = user_id;
  session.created_at = 1'700'000'000;
  session.last_used_at = 1'700'000'100;
  session.expires_at = 1'702'592'000;
  session.auth_time = 1'699'999'990;
  session.amr = "pwd,otp";
  session.user_agent = "curl/8.0";
  session.ip = "2001:db8::1";
  // Digests are raw bytes: NULs and high bytes included on purpose.
  session.refresh_hash = std::string(32, '\0');
  session.refresh_hash[1] = '\xff';
  session.refresh_hash[31] = '\x01';
  const Uuid salt = random_uuid();
  session.refresh_hash.replace(2, 16, salt.as_bytes());
  session.prev_refresh_hash = std::string(32, '\x7f');
  session.prev_refresh_hash.replace(0, 16, random_uuid().as_bytes());
  session.next_refresh_sealed = std::string("\x00sealed\xfe", 8) + std::string(40, 's');
  session.rotated_at = 1'700'000'050;
  return session;
}

std::int64_t session_id(Connection& connection) {
  return connection.query("SELECT CONNECTION_ID()").at(0).int64(0);
}

void kill_session(Connection& victim) {
  const std::int64_t id = session_id(victim);
  Connection killer(db_settings(), Account::app);
  killer.execute_unprepared("KILL " + std::to_string(id));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left =
        killer.query("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", {id});
    if (left.at(0).int64(0) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL() << "session " << id << " still there 5 s after KILL";
}

unsigned closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

void drop_schema() {
  Connection migrator(db_settings(), Account::migrator);
  // Every table of the test database, whatever later migrations add.
  const mysql::Rows tables = migrator.query(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()");
  migrator.execute_unprepared("SET FOREIGN_KEY_CHECKS = 0");
  for (const mysql::Row& t : tables)
    migrator.execute_unprepared("DROP TABLE `" + t.bytes(0) + "`");
  migrator.execute_unprepared("SET FOREIGN_KEY_CHECKS = 1");
}

void StoreTest::SetUp() {
  // Children first (history and sessions reference users).
  migrator().execute("DELETE FROM mail_requests");
  migrator().execute("DELETE FROM mail_outbox");
  migrator().execute("DELETE FROM email_tokens");
  migrator().execute("DELETE FROM refresh_token_history");
  migrator().execute("DELETE FROM webauthn_challenges");
  migrator().execute("DELETE FROM passkeys");
  migrator().execute("DELETE FROM passkey_user_handles");
  migrator().execute("DELETE FROM mfa_challenges");
  migrator().execute("DELETE FROM mfa_recovery_codes");
  migrator().execute("DELETE FROM sessions");
  migrator().execute("DELETE FROM users");
  migrator().execute("DELETE FROM login_throttle");
  migrator().execute("DELETE FROM admin_keys");
}

std::int64_t StoreTest::count_rows(std::string_view table) {
  // Table names are constants of the tests, never input.
  return migrator().query("SELECT COUNT(*) FROM " + std::string(table)).at(0).int64(0);
}

}  // namespace authd::store_test
