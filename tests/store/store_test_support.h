#pragma once
// What every store test shares: the database from the environment (started
// by scripts/store-tests.sh), migrated once before the first test, and a
// fixture that empties the tables before each test.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "adapters/mysql/connection.h"
#include "config/config.h"
#include "ports/records.h"
#include "ports/store_errors.h"

namespace authd::store_test {

using mysql::Account;
using mysql::Connection;

// MYSQL_HOST/PORT/USER/PASSWORD/DB and MYSQL_MIGRATE_USER/PASSWORD.
const DbSettings& db_settings();

Uuid random_uuid();

// A user with every field set (times a few days apart, disabled/verified
// left empty).
User sample_user(std::string email);
// A live session of `user_id` with every field set.
Session sample_session(const Uuid& user_id);

// The server-side id of the connection's session (opens it if needed).
std::int64_t session_id(Connection& connection);
// Kills the connection's server session from another connection of the
// same account (which may kill its own account's sessions) and waits until
// the server has closed it.
void kill_session(Connection& victim);

// Drops every table, leaving an empty database ("fresh").
void drop_schema();

// A TCP port on 127.0.0.1 where nothing listens (bound, then released).
unsigned closed_port();

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override;

  Connection& app() { return *app_; }
  Connection& migrator() { return *migrator_; }
  std::unique_ptr<Connection> new_app_connection() {
    return std::make_unique<Connection>(db_settings(), Account::app);
  }
  std::int64_t count_rows(std::string_view table);

 private:
  std::unique_ptr<Connection> app_ = new_app_connection();
  std::unique_ptr<Connection> migrator_ =
      std::make_unique<Connection>(db_settings(), Account::migrator);
};

}  // namespace authd::store_test
