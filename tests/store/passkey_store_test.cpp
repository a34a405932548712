// MysqlPasskeyStore against a real MariaDB: registration under the account's
// lock (uniqueness across accounts, the per-account limit with two workers
// at once), the counter's compare-and-swap, single-use challenges, user
// handles made once, and the removals.
#include "adapters/mysql/passkey_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "adapters/mysql/transaction_runner.h"
#include "adapters/mysql/user_store.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

constexpr UnixSeconds kNow = 1'800'000'000;

class PasskeyStoreTest : public StoreTest {
 protected:
  User user = sample_user("passkeys@example.com");
  User other = sample_user("other-passkeys@example.com");
  void SetUp() override {
    StoreTest::SetUp();
    mysql::MysqlUserStore users(app());
    ASSERT_EQ(users.insert(user), UserStore::InsertResult::inserted);
    ASSERT_EQ(users.insert(other), UserStore::InsertResult::inserted);
  }
  static Passkey sample(const Uuid& owner, std::string credential_id,
                        UnixSeconds created_at = kNow) {
    Passkey p;
    p.id = random_uuid();
    p.user_id = owner;
    p.credential_id = std::move(credential_id);
    p.alg = -7;
    p.public_key = std::string(64, 'k');
    p.sign_count = 5;
    p.backup_eligible = true;
    p.backed_up = false;
    p.aaguid = std::string(16, '\0');
    p.transports = "internal,hybrid";
    p.name = "Laptop";
    p.created_at = created_at;
    return p;
  }
  PasskeyStore::AddResult add(mysql::Connection& c, const Passkey& p, unsigned max = 10) {
    mysql::MysqlPasskeyStore store(c);
    mysql::MysqlTransactionRunner tx(c);
    PasskeyStore::AddResult result{};
    tx.in_transaction([&] { result = store.add(p, max); });
    return result;
  }
};

TEST_F(PasskeyStoreTest, AddsFindsListsAndReadsBackEveryField) {
  mysql::MysqlPasskeyStore store(app());
  const Passkey p = sample(user.id, std::string(1023, '\xff'));
  ASSERT_EQ(add(app(), p), PasskeyStore::AddResult::added);
  auto found = store.find_by_credential_id(p.credential_id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, p.id);
  EXPECT_EQ(found->user_id, user.id);
  EXPECT_EQ(found->credential_id, p.credential_id);
  EXPECT_EQ(found->alg, -7);
  EXPECT_EQ(found->public_key, p.public_key);
  EXPECT_EQ(found->sign_count, 5u);
  EXPECT_TRUE(found->backup_eligible);
  EXPECT_FALSE(found->backed_up);
  EXPECT_EQ(found->aaguid, p.aaguid);
  EXPECT_EQ(found->transports, "internal,hybrid");
  EXPECT_EQ(found->name, "Laptop");
  EXPECT_EQ(found->created_at, kNow);
  EXPECT_FALSE(found->last_used_at);
  EXPECT_EQ(store.find(p.id)->credential_id, p.credential_id);
  EXPECT_FALSE(store.find_by_credential_id(std::string(1022, '\xff')));
  EXPECT_EQ(store.count(user.id), 1u);
  EXPECT_EQ(store.count(other.id), 0u);
}

TEST_F(PasskeyStoreTest, ListsOldestFirst) {
  mysql::MysqlPasskeyStore store(app());
  ASSERT_EQ(add(app(), sample(user.id, "b", kNow + 10)), PasskeyStore::AddResult::added);
  ASSERT_EQ(add(app(), sample(user.id, "a", kNow)), PasskeyStore::AddResult::added);
  ASSERT_EQ(add(app(), sample(other.id, "c", kNow)), PasskeyStore::AddResult::added);
  auto list = store.list(user.id);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].credential_id, "a");
  EXPECT_EQ(list[1].credential_id, "b");
}

TEST_F(PasskeyStoreTest, ACredentialIdIsRegisteredOnceAcrossAccountsBeforeTheLimitIsJudged) {
  ASSERT_EQ(add(app(), sample(user.id, "same")), PasskeyStore::AddResult::added);
  EXPECT_EQ(add(app(), sample(other.id, "same")), PasskeyStore::AddResult::exists);
  EXPECT_EQ(add(app(), sample(user.id, "same"), 1), PasskeyStore::AddResult::exists)
      << "exists is judged before the limit";
  EXPECT_EQ(add(app(), sample(user.id, "new"), 1), PasskeyStore::AddResult::limit);
  EXPECT_EQ(count_rows("passkeys"), 1);
}

TEST_F(PasskeyStoreTest, TwoWorkersRegisteringAtOnceNeverPassTheLimit) {
  // The account's row lock serialises them: in each round, of 2 x 3
  // concurrent registrations against a limit of 2, exactly 2 are added.
  for (int round = 0; round < 60; ++round) {
    std::atomic<int> added{0};
    std::barrier start(2);
    auto worker = [&](int w) {
      auto connection = new_app_connection();
      mysql::MysqlPasskeyStore(*connection).count(user.id);  // connected before the race
      start.arrive_and_wait();
      for (int i = 0; i < 3; ++i) {
        const std::string id =
            std::to_string(round) + "-" + std::to_string(w) + "-" + std::to_string(i);
        if (add(*connection, sample(user.id, id), 2) == PasskeyStore::AddResult::added) ++added;
      }
    };
    std::thread a(worker, 0), b(worker, 1);
    a.join();
    b.join();
    ASSERT_EQ(added.load(), 2) << "round " << round;
    ASSERT_EQ(mysql::MysqlPasskeyStore(app()).remove_all(user.id), 2);
  }
}

TEST_F(PasskeyStoreTest, TheCounterOnlyMovesUpAndOneOfTwoWorkersTakesAValue) {
  mysql::MysqlPasskeyStore store(app());
  const Passkey p = sample(user.id, "counter");
  ASSERT_EQ(add(app(), p), PasskeyStore::AddResult::added);
  EXPECT_FALSE(store.record_use(p.id, 5, true, kNow)) << "not above the stored 5";
  EXPECT_FALSE(store.record_use(p.id, 4, true, kNow));
  EXPECT_TRUE(store.record_use(p.id, 6, true, kNow + 1));
  auto after = store.find(p.id);
  EXPECT_EQ(after->sign_count, 6u);
  EXPECT_TRUE(after->backed_up);
  EXPECT_EQ(after->last_used_at, kNow + 1);
  // Without a counter: the use and BS only.
  EXPECT_TRUE(store.record_use(p.id, std::nullopt, false, kNow + 2));
  after = store.find(p.id);
  EXPECT_EQ(after->sign_count, 6u);
  EXPECT_FALSE(after->backed_up);
  EXPECT_EQ(after->last_used_at, kNow + 2);

  for (std::uint32_t value = 7; value < 47; ++value) {
    std::atomic<int> taken{0};
    std::barrier start(2);
    auto worker = [&] {
      auto connection = new_app_connection();
      mysql::MysqlPasskeyStore s(*connection);
      s.find(p.id);  // connected before the race
      start.arrive_and_wait();
      if (s.record_use(p.id, value, false, kNow)) ++taken;
    };
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    ASSERT_EQ(taken.load(), 1) << "counter value " << value;
  }
}

TEST_F(PasskeyStoreTest, AChallengeIsTakenOnceAndOnlyForItsPurpose) {
  mysql::MysqlPasskeyStore store(app());
  WebAuthnChallenge c;
  c.challenge_hash = std::string(32, 'c');
  c.purpose = ChallengePurpose::second_factor;
  c.user_id = user.id;
  c.mfa_token_hash = std::string(32, 'm');
  c.created_at = kNow;
  c.expires_at = kNow + 300;
  store.insert_challenge(c);
  EXPECT_FALSE(store.take_challenge(c.challenge_hash, ChallengePurpose::login))
      << "another purpose neither finds nor spends it";
  auto taken = store.take_challenge(c.challenge_hash, ChallengePurpose::second_factor);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->user_id, user.id);
  EXPECT_EQ(taken->mfa_token_hash, c.mfa_token_hash);
  EXPECT_EQ(taken->created_at, kNow);
  EXPECT_EQ(taken->expires_at, kNow + 300);
  EXPECT_FALSE(store.take_challenge(c.challenge_hash, ChallengePurpose::second_factor));

  // A login challenge names no account; two workers presenting it: one wins.
  for (int i = 0; i < 20; ++i) {
    WebAuthnChallenge login;
    login.challenge_hash = std::string(31, 'l') + static_cast<char>('a' + i);
    login.purpose = ChallengePurpose::login;
    login.created_at = kNow;
    login.expires_at = kNow + 300;
    store.insert_challenge(login);
    std::atomic<int> taken_by{0};
    std::barrier start(2);
    auto worker = [&] {
      auto connection = new_app_connection();
      mysql::MysqlPasskeyStore s(*connection);
      s.count(user.id);
      start.arrive_and_wait();
      if (s.take_challenge(login.challenge_hash, ChallengePurpose::login)) ++taken_by;
    };
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    ASSERT_EQ(taken_by.load(), 1);
  }
}

TEST_F(PasskeyStoreTest, ExpiredChallengesArePurgedByNewOnes) {
  mysql::MysqlPasskeyStore store(app());
  WebAuthnChallenge old;
  old.challenge_hash = std::string(32, 'o');
  old.purpose = ChallengePurpose::login;
  old.created_at = kNow - 600;
  old.expires_at = kNow - 300;
  store.insert_challenge(old);
  WebAuthnChallenge fresh = old;
  fresh.challenge_hash = std::string(32, 'f');
  fresh.created_at = kNow;
  fresh.expires_at = kNow + 300;
  store.insert_challenge(fresh);
  EXPECT_EQ(count_rows("webauthn_challenges"), 1);
}

TEST_F(PasskeyStoreTest, AUserHandleIsMadeOnceAndKept) {
  mysql::MysqlPasskeyStore store(app());
  EXPECT_FALSE(store.find_user_handle(user.id));
  const std::string first = store.user_handle(user.id, std::string(32, '1'));
  EXPECT_EQ(first, std::string(32, '1'));
  EXPECT_EQ(store.user_handle(user.id, std::string(32, '2')), first);
  EXPECT_EQ(store.find_user_handle(user.id), first);
  EXPECT_EQ(store.user_handle(other.id, std::string(32, '3')), std::string(32, '3'));
}

TEST_F(PasskeyStoreTest, RemovesOneOfYoursAllOrThoseMadeBeforeVerification) {
  mysql::MysqlPasskeyStore store(app());
  const Passkey early = sample(user.id, "early", kNow - 100);
  const Passkey late = sample(user.id, "late", kNow + 100);
  const Passkey others = sample(other.id, "others", kNow - 100);
  for (const auto* p : {&early, &late, &others})
    ASSERT_EQ(add(app(), *p), PasskeyStore::AddResult::added);
  EXPECT_FALSE(store.remove(other.id, early.id)) << "not the other account's";
  EXPECT_EQ(store.remove_created_while_unverified(user.id, kNow), 1);
  EXPECT_FALSE(store.find(early.id));
  EXPECT_TRUE(store.find(late.id));
  EXPECT_EQ(store.remove_created_while_unverified(user.id, std::nullopt), 1)
      << "never verified: every passkey was made while unverified";
  EXPECT_TRUE(store.find(others.id));
  ASSERT_EQ(add(app(), sample(user.id, "again")), PasskeyStore::AddResult::added);
  EXPECT_EQ(store.remove_all(user.id), 1);
  EXPECT_TRUE(store.remove(other.id, others.id));
  EXPECT_FALSE(store.remove(other.id, others.id));
  EXPECT_EQ(count_rows("passkeys"), 0);
}

TEST_F(PasskeyStoreTest, DeletingTheAccountTakesItsPasskeysHandleAndChallenges) {
  mysql::MysqlPasskeyStore store(app());
  ASSERT_EQ(add(app(), sample(user.id, "gone")), PasskeyStore::AddResult::added);
  store.user_handle(user.id, std::string(32, 'h'));
  WebAuthnChallenge c;
  c.challenge_hash = std::string(32, 'r');
  c.purpose = ChallengePurpose::registration;
  c.user_id = user.id;
  c.created_at = kNow;
  c.expires_at = kNow + 300;
  store.insert_challenge(c);
  migrator().execute("DELETE FROM users WHERE id = ?", {user.id.as_bytes()});
  EXPECT_EQ(count_rows("passkeys"), 0);
  EXPECT_EQ(count_rows("passkey_user_handles"), 0);
  EXPECT_EQ(count_rows("webauthn_challenges"), 0);
}

}  // namespace
}  // namespace authd::store_test
