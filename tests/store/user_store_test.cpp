#include "adapters/mysql/user_store.h"

#include <atomic>
#include <barrier>
#include <thread>

#include "store_test_support.h"

namespace authd::store_test {
namespace {

using mysql::MysqlUserStore;
using InsertResult = UserStore::InsertResult;

class UserStoreTest : public StoreTest {
 protected:
  MysqlUserStore users{app()};
};

void expect_same(const User& actual, const User& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.email, expected.email);
  EXPECT_EQ(actual.password_hash, expected.password_hash);
  EXPECT_EQ(actual.created_at, expected.created_at);
  EXPECT_EQ(actual.password_changed_at, expected.password_changed_at);
  EXPECT_EQ(actual.disabled_at, expected.disabled_at);
  EXPECT_EQ(actual.email_verified_at, expected.email_verified_at);
}

TEST_F(UserStoreTest, InsertThenFindByEmailAndById) {
  User user = sample_user("alice@example.com");
  user.disabled_at = 1'710'000'000;
  user.email_verified_at = 1'700'000'500;
  ASSERT_EQ(users.insert(user), InsertResult::inserted);

  const auto by_email = users.find_by_email("alice@example.com");
  ASSERT_TRUE(by_email.has_value());
  expect_same(*by_email, user);
  const auto by_id = users.find_by_id(user.id);
  ASSERT_TRUE(by_id.has_value());
  expect_same(*by_id, user);
}

TEST_F(UserStoreTest, OptionalTimesRoundTripAsEmpty) {
  const User user = sample_user("bob@example.com");
  ASSERT_EQ(users.insert(user), InsertResult::inserted);
  const auto found = users.find_by_id(user.id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->disabled_at, std::nullopt);
  EXPECT_EQ(found->email_verified_at, std::nullopt);
  EXPECT_FALSE(found->mfa_enabled);
}

TEST_F(UserStoreTest, UnknownUserIsNotFound) {
  EXPECT_EQ(users.find_by_email("nobody@example.com"), std::nullopt);
  EXPECT_EQ(users.find_by_id(random_uuid()), std::nullopt);
}

TEST_F(UserStoreTest, TakenEmailIsReportedAndTheFirstAccountKept) {
  const User first = sample_user("carol@example.com");
  ASSERT_EQ(users.insert(first), InsertResult::inserted);
  User second = sample_user("carol@example.com");
  second.password_hash = "another";
  EXPECT_EQ(users.insert(second), InsertResult::email_taken);
  EXPECT_EQ(count_rows("users"), 1);
  expect_same(*users.find_by_email("carol@example.com"), first);
}

TEST_F(UserStoreTest, IdCollisionIsAnErrorNotATakenEmail) {
  const User first = sample_user("dave@example.com");
  ASSERT_EQ(users.insert(first), InsertResult::inserted);
  User clash = sample_user("erin@example.com");
  clash.id = first.id;
  EXPECT_THROW(users.insert(clash), StoreError);
}

TEST_F(UserStoreTest, EmailsAreComparedAsBytes) {
  // The store keeps what it is given; normalising is the service's job. The
  // collation must not fold case, accents or trailing spaces.
  const User lower = sample_user("frank@example.com");
  const User upper = sample_user("FRANK@example.com");
  const User spaced = sample_user("frank@example.com ");
  const User composed = sample_user("jos\xc3\xa9@example.com");     // é
  const User decomposed = sample_user("jose\xcc\x81@example.com");  // e + U+0301
  for (const User* user : {&lower, &upper, &spaced, &composed, &decomposed}) {
    EXPECT_EQ(users.insert(*user), InsertResult::inserted) << user->email;
  }
  for (const User* user : {&lower, &upper, &spaced, &composed, &decomposed}) {
    const auto found = users.find_by_email(user->email);
    ASSERT_TRUE(found.has_value()) << user->email;
    EXPECT_EQ(found->id, user->id) << user->email;
  }
  EXPECT_EQ(users.find_by_email("Frank@example.com"), std::nullopt);
}

TEST_F(UserStoreTest, ReplacePasswordHashSwapsWhileTheExpectedHashHolds) {
  const User user = sample_user("grace@example.com");
  ASSERT_EQ(users.insert(user), InsertResult::inserted);
  EXPECT_TRUE(users.replace_password_hash(user.id, user.password_hash, "new-hash", 1'750'000'000));
  const auto found = users.find_by_id(user.id);
  EXPECT_EQ(found->password_hash, "new-hash");
  EXPECT_EQ(found->password_changed_at, 1'750'000'000);
}

TEST_F(UserStoreTest, StaleExpectedHashChangesNothing) {
  const User user = sample_user("heidi@example.com");
  ASSERT_EQ(users.insert(user), InsertResult::inserted);
  EXPECT_FALSE(users.replace_password_hash(user.id, "stale", "new-hash", 1'750'000'000));
  expect_same(*users.find_by_id(user.id), user);
}

TEST_F(UserStoreTest, RehashKeepsPasswordChangedAt) {
  const User user = sample_user("ivan@example.com");
  ASSERT_EQ(users.insert(user), InsertResult::inserted);
  EXPECT_TRUE(users.replace_password_hash(user.id, user.password_hash, "rehashed", std::nullopt));
  const auto found = users.find_by_id(user.id);
  EXPECT_EQ(found->password_hash, "rehashed");
  EXPECT_EQ(found->password_changed_at, user.password_changed_at);
}

TEST_F(UserStoreTest, ReplacingWithTheSameHashStillCountsAsWon) {
  // CLIENT_FOUND_ROWS: matched, not changed, rows are counted.
  const User user = sample_user("judy@example.com");
  ASSERT_EQ(users.insert(user), InsertResult::inserted);
  EXPECT_TRUE(
      users.replace_password_hash(user.id, user.password_hash, user.password_hash, std::nullopt));
}

TEST_F(UserStoreTest, ReplaceOnAnUnknownUserIsFalse) {
  EXPECT_FALSE(users.replace_password_hash(random_uuid(), "a", "b", 1));
}

TEST_F(UserStoreTest, TwoConcurrentChangesFromTheSameHashExactlyOneWins) {
  const User user = sample_user("mallory@example.com");
  ASSERT_EQ(users.insert(user), InsertResult::inserted);
  auto first_connection = new_app_connection();
  auto second_connection = new_app_connection();
  MysqlUserStore first(*first_connection);
  MysqlUserStore second(*second_connection);
  first.find_by_id(user.id);  // open both before racing
  second.find_by_id(user.id);

  constexpr int kRounds = 25;
  std::string current = user.password_hash;
  for (int round = 0; round < kRounds; ++round) {
    const std::string mine_a = "hash-a-" + std::to_string(round);
    const std::string mine_b = "hash-b-" + std::to_string(round);
    std::atomic<bool> a_won = false;
    std::atomic<bool> b_won = false;
    std::barrier start(2);
    std::thread a([&] {
      start.arrive_and_wait();
      a_won = first.replace_password_hash(user.id, current, mine_a, 1'750'000'000 + round);
    });
    std::thread b([&] {
      start.arrive_and_wait();
      b_won = second.replace_password_hash(user.id, current, mine_b, 1'750'000'000 + round);
    });
    a.join();
    b.join();
    ASSERT_NE(a_won.load(), b_won.load()) << "round " << round;
    current = a_won ? mine_a : mine_b;
    EXPECT_EQ(users.find_by_id(user.id)->password_hash, current);
  }
}

}  // namespace
}  // namespace authd::store_test
