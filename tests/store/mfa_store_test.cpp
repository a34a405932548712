// MysqlMfaStore against a real MariaDB: enrolment, the TOTP replay guard
// under two workers at once, recovery codes and pending logins.
#include "adapters/mysql/mfa_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "adapters/mysql/user_store.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

class MfaStoreTest : public StoreTest {
 protected:
  User user = sample_user("mfa@example.com");
  void SetUp() override {
    StoreTest::SetUp();
    mysql::MysqlUserStore users(app());
    ASSERT_EQ(users.insert(user), UserStore::InsertResult::inserted);
  }
  bool enabled_in_user_row() {
    mysql::MysqlUserStore users(app());
    return users.find_by_id(user.id)->mfa_enabled;
  }
};

TEST_F(MfaStoreTest, OnlyThePendingSecretCanBeConfirmed) {
  mysql::MysqlMfaStore mfa(app());
  EXPECT_FALSE(mfa.read(user.id).enabled);
  mfa.set_pending(user.id, "sealed-one");
  mfa.set_pending(user.id, "sealed-two");
  EXPECT_FALSE(mfa.enable(user.id, "sealed-one", 100, 1'800'000'000))
      << "replaced by a newer setup";
  EXPECT_TRUE(mfa.enable(user.id, "sealed-two", 100, 1'800'000'000));
  const MfaState state = mfa.read(user.id);
  EXPECT_TRUE(state.enabled);
  EXPECT_EQ(state.secret_sealed, "sealed-two");
  EXPECT_TRUE(state.pending_sealed.empty());
  EXPECT_EQ(state.last_step, 100);
  EXPECT_TRUE(enabled_in_user_row());
  EXPECT_TRUE(mfa.any_enabled());
  mfa.set_pending(user.id, "sealed-three");
  EXPECT_TRUE(mfa.read(user.id).pending_sealed.empty()) << "no setup while on";
}

TEST_F(MfaStoreTest, AStepIsAcceptedOnceAcrossWorkers) {
  mysql::MysqlMfaStore setup(app());
  setup.set_pending(user.id, "sealed");
  ASSERT_TRUE(setup.enable(user.id, "sealed", 100, 1'800'000'000));
  for (std::int64_t step = 101; step < 141; ++step) {
    std::atomic<int> accepted{0};
    auto worker = [&] {
      auto connection = new_app_connection();
      mysql::MysqlMfaStore mfa(*connection);
      if (mfa.accept_step(user.id, step)) ++accepted;
    };
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    EXPECT_EQ(accepted.load(), 1) << "step " << step;
  }
  mysql::MysqlMfaStore mfa(app());
  EXPECT_FALSE(mfa.accept_step(user.id, 130)) << "an earlier step after a later one";
  EXPECT_EQ(mfa.read(user.id).last_step, 140);
}

TEST_F(MfaStoreTest, RecoveryCodesAreSpentOnceAndReplacedWhole) {
  mysql::MysqlMfaStore mfa(app());
  mfa.replace_recovery_codes(user.id, {"h0", "h1", "h2"});
  ASSERT_EQ(mfa.unused_recovery_codes(user.id).size(), 3u);
  EXPECT_TRUE(mfa.spend_recovery_code(user.id, 1, 1'800'000'000));
  EXPECT_FALSE(mfa.spend_recovery_code(user.id, 1, 1'800'000'001));
  auto left = mfa.unused_recovery_codes(user.id);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].hash, "h0");
  EXPECT_EQ(left[1].hash, "h2");
  mfa.replace_recovery_codes(user.id, {"n0"});
  ASSERT_EQ(mfa.unused_recovery_codes(user.id).size(), 1u);
  EXPECT_EQ(mfa.unused_recovery_codes(user.id)[0].hash, "n0");
}

TEST_F(MfaStoreTest, ChallengesAreSpentOnceAndVoidedWithTheFactor) {
  mysql::MysqlMfaStore mfa(app());
  mfa.set_pending(user.id, "sealed");
  ASSERT_TRUE(mfa.enable(user.id, "sealed", 1, 1'800'000'000));
  MfaChallenge c;
  c.token_hash = std::string(32, 'a');
  c.user_id = user.id;
  c.ip = "203.0.113.7";
  c.created_at = 1'800'000'000;
  c.expires_at = 1'800'000'300;
  mfa.insert_challenge(c);
  auto found = mfa.find_challenge(c.token_hash);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->ip, "203.0.113.7");
  EXPECT_EQ(found->expires_at, 1'800'000'300);
  EXPECT_FALSE(found->spent_at);
  EXPECT_TRUE(mfa.spend_challenge(c.token_hash, 1'800'000'010));
  EXPECT_FALSE(mfa.spend_challenge(c.token_hash, 1'800'000'011));

  c.token_hash = std::string(32, 'b');
  mfa.insert_challenge(c);
  mfa.disable(user.id, 1'800'000'020);
  EXPECT_TRUE(mfa.find_challenge(c.token_hash)->spent_at) << "voided with the factor";
  EXPECT_FALSE(mfa.read(user.id).enabled);
  EXPECT_TRUE(mfa.read(user.id).secret_sealed.empty());
  EXPECT_FALSE(enabled_in_user_row());
  EXPECT_FALSE(mfa.any_enabled());
}

}  // namespace
}  // namespace authd::store_test
