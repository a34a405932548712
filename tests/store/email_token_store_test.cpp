#include "adapters/mysql/email_token_store.h"

#include "adapters/mysql/transaction_runner.h"
#include "adapters/mysql/user_store.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

using mysql::MysqlEmailTokenStore;
using mysql::MysqlUserStore;

class EmailTokenStoreTest : public StoreTest {
 protected:
  MysqlUserStore users{app()};
  MysqlEmailTokenStore tokens{app()};
  User user = sample_user("ann@example.com");

  // After StoreTest::SetUp has emptied the tables.
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_EQ(users.insert(user), UserStore::InsertResult::inserted);
  }

  EmailToken token(char fill, LinkPurpose purpose, UnixSeconds expires = 1'800'003'600) {
    EmailToken t;
    t.hash = std::string(32, fill);
    t.hash[0] = '\0';  // raw bytes
    t.user_id = user.id;
    t.purpose = purpose;
    t.created_at = 1'800'000'000;
    t.expires_at = expires;
    return t;
  }
};

TEST_F(EmailTokenStoreTest, InsertFindRemove) {
  const EmailToken t = token('a', LinkPurpose::verify_email);
  tokens.insert(t);
  auto found = tokens.find(t.hash);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user_id, user.id);
  EXPECT_EQ(found->purpose, LinkPurpose::verify_email);
  EXPECT_EQ(found->created_at, t.created_at);
  EXPECT_EQ(found->expires_at, t.expires_at);
  EXPECT_FALSE(tokens.find(std::string(32, 'z')));
  EXPECT_TRUE(tokens.remove(t.hash));
  EXPECT_FALSE(tokens.remove(t.hash));
  EXPECT_FALSE(tokens.find(t.hash));
}

TEST_F(EmailTokenStoreTest, RemoveAllTouchesOnlyThatPurpose) {
  tokens.insert(token('a', LinkPurpose::verify_email));
  tokens.insert(token('b', LinkPurpose::verify_email));
  tokens.insert(token('c', LinkPurpose::reset_password));
  EXPECT_EQ(tokens.remove_all(user.id, LinkPurpose::verify_email), 2);
  EXPECT_TRUE(tokens.find(token('c', LinkPurpose::reset_password).hash));
}

TEST_F(EmailTokenStoreTest, ASecondUseWaitsForTheFirstThenFindsItGone) {
  const EmailToken t = token('a', LinkPurpose::reset_password);
  tokens.insert(t);
  auto other = new_app_connection();
  MysqlEmailTokenStore other_tokens(*other);
  app().begin();
  ASSERT_TRUE(tokens.find_for_update(t.hash));
  std::thread second([&] {
    mysql::MysqlTransactionRunner tx(*other);
    tx.in_transaction([&] { EXPECT_FALSE(other_tokens.find_for_update(t.hash)); });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(tokens.remove(t.hash));
  app().commit();
  second.join();
}

TEST_F(EmailTokenStoreTest, PurgeRemovesExpiredOnly) {
  tokens.insert(token('a', LinkPurpose::verify_email, 100));
  tokens.insert(token('b', LinkPurpose::verify_email, 200));
  EXPECT_EQ(tokens.purge_expired(150), 1);
  EXPECT_EQ(count_rows("email_tokens"), 1);
}

TEST_F(EmailTokenStoreTest, MarkEmailVerifiedOnlyOnce) {
  EXPECT_TRUE(users.mark_email_verified(user.id, 1'800'000'100));
  EXPECT_FALSE(users.mark_email_verified(user.id, 1'800'000'200));
  EXPECT_EQ(users.find_by_id(user.id)->email_verified_at, 1'800'000'100);
  EXPECT_FALSE(users.mark_email_verified(random_uuid(), 1));
  app().begin();
  auto locked = users.find_by_email_for_update("ann@example.com");
  app().commit();
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->id, user.id);
}

TEST_F(EmailTokenStoreTest, DeletingTheUserTakesItsTokensAndMail) {
  tokens.insert(token('a', LinkPurpose::verify_email));
  migrator().execute("DELETE FROM users");
  EXPECT_EQ(count_rows("email_tokens"), 0);
}

}  // namespace
}  // namespace authd::store_test
