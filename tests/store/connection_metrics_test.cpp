// What a real connection reports to its MetricsSink: a lost connection, the
// reconnect after it, and a connect that fails; the first open is neither.
#include <gtest/gtest.h>

#include <thread>

#include "adapters/mysql/connection.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

class CountingSink final : public MetricsSink {
 public:
  void login(LoginOutcome) noexcept override {}
  void password_work(PasswordWork, std::chrono::nanoseconds) noexcept override {}
  void refresh_reuse_detected() noexcept override {}
  void database_failure(DatabaseFailure f) noexcept override {
    (f == DatabaseFailure::connect ? connect_failures : lost) += 1;
  }
  void database_reconnected() noexcept override { ++reconnects; }
  int connect_failures = 0;
  int lost = 0;
  int reconnects = 0;
};

class ConnectionMetricsTest : public StoreTest {};

TEST_F(ConnectionMetricsTest, LostAndReconnectedAreReportedOnceEach) {
  CountingSink sink;
  auto connection = new_app_connection();
  connection->set_metrics(&sink);
  connection->query("SELECT 1");
  EXPECT_EQ(sink.reconnects, 0) << "the first open is not a reconnect";
  kill_session(*connection);
  connection->query("SELECT 1");  // a read: found lost, retried on a fresh connection
  EXPECT_EQ(sink.lost, 1);
  EXPECT_EQ(sink.reconnects, 1);
  EXPECT_EQ(sink.connect_failures, 0);
  connection->query("SELECT 1");
  EXPECT_EQ(sink.lost, 1);
  EXPECT_EQ(sink.reconnects, 1);
}

TEST_F(ConnectionMetricsTest, AConnectThatFailsIsOneConnectFailure) {
  DbSettings nowhere = db_settings();
  nowhere.port = closed_port();  // nothing listens there
  nowhere.connect_timeout_s = 2;
  CountingSink sink;
  mysql::Connection connection(nowhere, mysql::Account::app);
  connection.set_metrics(&sink);
  EXPECT_THROW(connection.query("SELECT 1"), StoreUnavailable);
  EXPECT_EQ(sink.connect_failures, 1);
  EXPECT_EQ(sink.lost, 0) << "a connection that never opened is not also 'lost'";
  // Within the pause after a failed connect nothing is tried (so nothing
  // more fails); after it, the next attempt fails and counts.
  EXPECT_FALSE(connection.ping());
  EXPECT_EQ(sink.connect_failures, 1);
  std::this_thread::sleep_for(mysql::Connection::kUnreachablePause);
  EXPECT_FALSE(connection.ping());
  EXPECT_EQ(sink.connect_failures, 2);
}

}  // namespace
}  // namespace authd::store_test
