#include "adapters/mysql/transaction_runner.h"

#include <stdexcept>

#include "adapters/mysql/session_store.h"
#include "adapters/mysql/user_store.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

using mysql::MysqlSessionStore;
using mysql::MysqlTransactionRunner;
using mysql::MysqlUserStore;

class TransactionTest : public StoreTest {
 protected:
  MysqlUserStore users{app()};
  MysqlSessionStore sessions{app()};
  MysqlTransactionRunner transactions{app()};
};

struct UseCaseFailed : std::runtime_error {
  UseCaseFailed() : std::runtime_error("use case failed") {}
};

TEST_F(TransactionTest, CommitsEveryWrite) {
  const User user = sample_user("tx-commit@example.com");
  const Session session = sample_session(user.id);
  transactions.in_transaction([&] {
    users.insert(user);
    sessions.insert(session);
  });
  EXPECT_FALSE(app().in_transaction());
  EXPECT_EQ(count_rows("users"), 1);
  EXPECT_EQ(count_rows("sessions"), 1);
}

TEST_F(TransactionTest, WritesAreInvisibleToOthersUntilCommit) {
  auto other_connection = new_app_connection();
  MysqlUserStore other(*other_connection);
  const User user = sample_user("tx-hidden@example.com");
  transactions.in_transaction([&] {
    users.insert(user);
    EXPECT_TRUE(users.find_by_email(user.email).has_value());   // own writes seen
    EXPECT_FALSE(other.find_by_email(user.email).has_value());  // not yet anyone else's
  });
  EXPECT_TRUE(other.find_by_email(user.email).has_value());
}

TEST_F(TransactionTest, ExceptionInTheBodyRollsBackAndIsRethrown) {
  const User user = sample_user("tx-rollback@example.com");
  EXPECT_THROW(transactions.in_transaction([&] {
    users.insert(user);
    sessions.insert(sample_session(user.id));
    throw UseCaseFailed();
  }),
               UseCaseFailed);
  EXPECT_FALSE(app().in_transaction());
  EXPECT_EQ(count_rows("users"), 0);
  EXPECT_EQ(count_rows("sessions"), 0);
  EXPECT_FALSE(users.find_by_email(user.email).has_value());
}

TEST_F(TransactionTest, FailingStatementRollsBackTheEarlierOnes) {
  const User user = sample_user("tx-fk@example.com");
  EXPECT_THROW(transactions.in_transaction([&] {
    users.insert(user);
    sessions.insert(sample_session(random_uuid()));  // no such user: foreign key
  }),
               StoreError);
  EXPECT_EQ(count_rows("users"), 0);
}

TEST_F(TransactionTest, PasswordChangeAndRevocationCommitTogether) {
  const User user = sample_user("tx-change@example.com");
  users.insert(user);
  const Session current = sample_session(user.id);
  const Session old = sample_session(user.id);
  sessions.insert(current);
  sessions.insert(old);
  bool swapped = false;
  int revoked = 0;
  transactions.in_transaction([&] {
    swapped = users.replace_password_hash(user.id, user.password_hash, "new", 1'750'000'000);
    revoked = sessions.revoke_all_for_user(user.id, 1'750'000'000, current.id);
  });
  EXPECT_TRUE(swapped);
  EXPECT_EQ(revoked, 1);
  EXPECT_EQ(sessions.find(old.id)->revoked_at, 1'750'000'000);
}

TEST_F(TransactionTest, TransactionsDoNotNest) {
  EXPECT_THROW(transactions.in_transaction([&] { transactions.in_transaction([] {}); }),
               StoreError);
  EXPECT_FALSE(app().in_transaction());
}

TEST_F(TransactionTest, ConnectionLostInTheBodyRollsBackAndReportsUnavailable) {
  const User user = sample_user("tx-lost@example.com");
  EXPECT_THROW(transactions.in_transaction([&] {
    users.insert(user);
    kill_session(app());
    users.insert(sample_user("tx-lost-2@example.com"));
  }),
               StoreUnavailable);
  EXPECT_FALSE(app().in_transaction());
  EXPECT_EQ(count_rows("users"), 0);
  // The connection recovers for the next use case.
  EXPECT_NO_THROW(transactions.in_transaction([&] { users.insert(user); }));
  EXPECT_EQ(count_rows("users"), 1);
}

TEST_F(TransactionTest, SwallowedLossInTheBodyStillFailsTheCommit) {
  EXPECT_THROW(transactions.in_transaction([&] {
    users.insert(sample_user("tx-swallow@example.com"));
    kill_session(app());
    try {
      users.find_by_id(random_uuid());
    } catch (const StoreUnavailable&) {
      // a careless use case carries on
    }
  }),
               StoreUnavailable);
  EXPECT_EQ(count_rows("users"), 0);
}

}  // namespace
}  // namespace authd::store_test
