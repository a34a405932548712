// What a database cluster asks of the connection layer, against one real
// server: MYSQL_HOST as a list (the first node that answers, moving on when
// it dies, moving back between transactions when it returns), units that
// lost to a concurrent one (1213) run again whole, and causal reads that
// cost nothing without wsrep. Two "nodes" are the one server reached
// directly and through a TCP relay (socat) that a test can kill and restart.
// What only a real Galera cluster shows (certification conflicts across
// nodes, a node not Synced, 1047) is `make cluster-test`'s.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "adapters/mysql/errors.h"
#include "adapters/mysql/transaction_runner.h"
#include "adapters/mysql/user_store.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

using mysql::Conflict;
using mysql::MysqlTransactionRunner;
using mysql::MysqlUserStore;

constexpr std::string_view kSignalConflict =
    "SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'test: conflict'";

// socat relaying 127.0.0.1:port to the test server, in a process group of
// its own (it forks a child per connection): kill() ends them all, as a
// node's death ends its connections.
class Relay {
 public:
  // `target_port`: where to relay to (0: the test server). A closed port
  // makes a relay that accepts each connection and then drops it, as a node
  // shutting down does.
  explicit Relay(unsigned port, unsigned target_port = 0) : port_(port), target_port_(target_port) {
    start();
  }
  ~Relay() { kill(); }
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  void start() {
    const std::string listen =
        "TCP-LISTEN:" + std::to_string(port_) + ",bind=127.0.0.1,reuseaddr,fork";
    const std::string target =
        target_port_ != 0 ? "TCP:127.0.0.1:" + std::to_string(target_port_)
                          : "TCP:" + db_settings().host + ":" + std::to_string(db_settings().port);
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      execlp("socat", "socat", listen.c_str(), target.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    setpgid(pid_, pid_);
    if (target_port_ != 0) {  // it answers no ping: give it time to listen
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return;
    }
    // Until it listens.
    for (int i = 0; i < 200; ++i) {
      Connection probe(settings(), Account::app);
      if (probe.ping()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "socat did not start (is it installed?)";
  }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  DbSettings settings() const {
    DbSettings s = db_settings();
    s.host = "127.0.0.1:" + std::to_string(port_);
    return s;
  }

 private:
  unsigned port_;
  unsigned target_port_;
  pid_t pid_ = -1;
};

// The relay first (preferred), the server itself second.
DbSettings two_nodes(unsigned preferred_port, unsigned failback_s = 1) {
  DbSettings s = db_settings();
  s.host = "127.0.0.1:" + std::to_string(preferred_port) + "," + db_settings().host + ":" +
           std::to_string(db_settings().port);
  s.failback_s = failback_s;
  return s;
}

class ClusterTest : public StoreTest {};

TEST_F(ClusterTest, AListConnectsToTheFirstNodeThatAnswers) {
  Connection connection(two_nodes(closed_port()), Account::app);
  EXPECT_EQ(connection.node_index(), -1) << "nothing opened before first use";
  EXPECT_EQ(connection.query("SELECT 1").at(0).int64(0), 1);
  EXPECT_EQ(connection.node_index(), 1);
  EXPECT_FALSE(connection.causal_reads()) << "a server without wsrep";
  EXPECT_EQ(connection.causal_query("SELECT 2").at(0).int64(0), 2);
}

TEST_F(ClusterTest, MovesOnWhenItsNodeDiesAndBackBetweenTransactionsWhenItReturns) {
  const unsigned port = closed_port();
  Relay relay(port);
  Connection connection(two_nodes(port, /*failback_s=*/1), Account::app);
  EXPECT_EQ(connection.query("SELECT 1").at(0).int64(0), 1);
  EXPECT_EQ(connection.node_index(), 0);

  relay.kill();  // the preferred node dies
  EXPECT_EQ(connection.query("SELECT 1").at(0).int64(0), 1) << "read retried on the next node";
  EXPECT_EQ(connection.node_index(), 1);

  relay.start();  // and comes back
  connection.begin();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  connection.query("SELECT 1");
  EXPECT_EQ(connection.node_index(), 1) << "never inside a transaction";
  connection.commit();
  connection.query("SELECT 1");
  EXPECT_EQ(connection.node_index(), 0) << "back on the preferred node after MYSQL_FAILBACK_S";
}

// Connector/C's list passes over hosts that refuse the TCP connection but
// stops at one that accepts it and then drops it during the handshake (a
// node shutting down does): the rest are tried one by one.
TEST_F(ClusterTest, ANodeThatDropsTheHandshakeIsPassedOver) {
  const unsigned port = closed_port();
  Relay dropping(port, closed_port());
  Connection connection(two_nodes(port), Account::app);
  EXPECT_EQ(connection.query("SELECT 1").at(0).int64(0), 1);
  EXPECT_EQ(connection.node_index(), 1);
}

TEST_F(ClusterTest, FailbackIsAskedForAtMostEveryFailbackInterval) {
  const unsigned port = closed_port();
  Connection connection(two_nodes(port, /*failback_s=*/30), Account::app);
  connection.query("SELECT 1");
  ASSERT_EQ(connection.node_index(), 1);
  Relay relay(port);  // the preferred node is back, but the interval has not passed
  for (int i = 0; i < 5; ++i)
    connection.query("SELECT 1");
  EXPECT_EQ(connection.node_index(), 1);
}

TEST_F(ClusterTest, NoNodeAnsweringIsUnavailable) {
  DbSettings none = db_settings();
  none.host =
      "127.0.0.1:" + std::to_string(closed_port()) + ",127.0.0.1:" + std::to_string(closed_port());
  Connection nowhere(none, Account::app);
  EXPECT_THROW(nowhere.query("SELECT 1"), StoreUnavailable);
  EXPECT_FALSE(nowhere.ping());
}

// The runner runs a unit that lost to a concurrent one again from the
// start; its first run's writes are gone (rolled back), so the unit's
// writes land once.
TEST_F(ClusterTest, ARunThatLostToAConflictIsRunAgainWhole) {
  MysqlUserStore users(app());
  MysqlTransactionRunner runner(app());
  const User user = sample_user("conflict-once@example.com");
  int runs = 0;
  runner.in_transaction([&] {
    ++runs;
    users.insert(user);
    if (runs == 1) app().execute_unprepared(kSignalConflict);
  });
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(count_rows("users"), 1);
  EXPECT_FALSE(app().in_transaction());
}

TEST_F(ClusterTest, AUnitThatKeepsLosingIsUnavailableNotAnError) {
  MysqlTransactionRunner runner(app());
  int runs = 0;
  try {
    runner.in_transaction([&] {
      ++runs;
      app().execute_unprepared(kSignalConflict);
    });
    FAIL() << "no exception";
  } catch (const StoreUnavailable&) {
    // 503: nothing was written.
  } catch (const std::exception& e) {
    FAIL() << "not StoreUnavailable: " << e.what();
  }
  EXPECT_EQ(runs, mysql::ConflictRetryPolicy{}.max_attempts);
  EXPECT_FALSE(app().in_transaction());
}

// A body that swallowed the conflict cannot go on as if its transaction
// were still open (the server rolled it back: further statements would
// autocommit one by one): every further statement fails, and so would
// COMMIT; the runner runs it again.
TEST_F(ClusterTest, AConflictedTransactionRefusesEveryFurtherStatement) {
  MysqlUserStore users(app());
  MysqlTransactionRunner runner(app());
  int runs = 0;
  bool refused = false;
  runner.in_transaction([&] {
    ++runs;
    if (runs > 1) return;
    try {
      app().execute_unprepared(kSignalConflict);
    } catch (const Conflict&) {
      // swallowed, wrongly
    }
    try {
      users.insert(sample_user("half@example.com"));
    } catch (const Conflict&) {
      refused = true;
      throw;
    }
  });
  EXPECT_TRUE(refused);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(count_rows("users"), 0);
}

// An autocommit write is its own transaction: one that lost is run again.
// (A function SIGNALs 1213 while @conflicts_left > 0, inside the UPDATE.)
TEST_F(ClusterTest, AnAutocommitWriteThatLostIsRunAgain) {
  migrator().execute_unprepared("DROP FUNCTION IF EXISTS authd_test_conflict");
  migrator().execute_unprepared(
      "CREATE FUNCTION authd_test_conflict() RETURNS INT NOT DETERMINISTIC BEGIN"
      " IF @conflicts_left > 0 THEN SET @conflicts_left = @conflicts_left - 1;"
      " SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'test: conflict';"
      " END IF; RETURN 1; END");
  MysqlUserStore users(migrator());
  const User user = sample_user("autocommit@example.com");
  users.insert(user);
  constexpr std::string_view kUpdate =
      "UPDATE users SET disabled_at = ? WHERE id = ? AND authd_test_conflict() = 1";

  migrator().execute_unprepared("SET @conflicts_left = 2");
  EXPECT_EQ(migrator().execute(kUpdate, {mysql::DateTime{1'700'000'000}, user.id.as_bytes()}), 1u);
  EXPECT_EQ(migrator().query("SELECT @conflicts_left").at(0).int64(0), 0);

  migrator().execute_unprepared("SET @conflicts_left = 100");
  EXPECT_THROW(migrator().execute(kUpdate, {mysql::DateTime{1'700'000'000}, user.id.as_bytes()}),
               StoreUnavailable);
  migrator().execute_unprepared("DROP FUNCTION authd_test_conflict");
}

}  // namespace
}  // namespace authd::store_test
