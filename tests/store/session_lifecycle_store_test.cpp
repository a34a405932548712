// The SessionStore methods of the token lifecycle against a real MariaDB:
// the locking read of a refresh, the live list and its order, revocation,
// the session cap, and refresh rotation with its spent-token history.
#include <atomic>
#include <barrier>
#include <chrono>
#include <thread>

#include "adapters/mysql/session_store.h"
#include "adapters/mysql/transaction_runner.h"
#include "adapters/mysql/user_store.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

using mysql::MysqlSessionStore;
using mysql::MysqlTransactionRunner;
using mysql::MysqlUserStore;

constexpr UnixSeconds kNow = 1'800'000'000;
constexpr UnixSeconds kIdle = 14 * 86400;

std::string digest_of(char fill) {
  return std::string(32, fill);
}

class SessionLifecycleStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_EQ(users.insert(owner), UserStore::InsertResult::inserted);
    ASSERT_EQ(users.insert(other), UserStore::InsertResult::inserted);
  }

  // A live session of `user` last used `age` seconds before kNow.
  Session live_session(const User& user, UnixSeconds age, UnixSeconds created = kNow - 3600) {
    Session s = sample_session(user.id);
    s.created_at = created;
    s.auth_time = created;
    s.last_used_at = kNow - age;
    s.expires_at = created + 30 * 86400;
    s.revoked_at.reset();
    s.rotated_at.reset();
    s.prev_refresh_hash.clear();
    s.next_refresh_sealed.clear();
    sessions.insert(s);
    return s;
  }

  // UUIDv7-like ids whose byte order is the creation order given.
  Session live_session_with_order(const User& user, UnixSeconds age, std::uint8_t order) {
    Session s = sample_session(user.id);
    s.id.bytes[0] = 0x01;
    s.id.bytes[1] = order;
    s.created_at = kNow - 3600;
    s.auth_time = s.created_at;
    s.last_used_at = kNow - age;
    s.expires_at = s.created_at + 30 * 86400;
    s.revoked_at.reset();
    sessions.insert(s);
    return s;
  }

  std::vector<Uuid> live_ids(const User& user) {
    std::vector<Uuid> ids;
    for (const Session& s : sessions.list_live(user.id, kNow, kIdle))
      ids.push_back(s.id);
    return ids;
  }

  MysqlUserStore users{app()};
  MysqlSessionStore sessions{app()};
  MysqlTransactionRunner transactions{app()};
  User owner = sample_user("owner@example.com");
  User other = sample_user("other@example.com");
};

TEST_F(SessionLifecycleStoreTest, FindForUpdateReadsTheWholeRow) {
  const Session s = sample_session(owner.id);
  sessions.insert(s);
  std::optional<Session> found;
  transactions.in_transaction([&] { found = sessions.find_for_update(s.id); });
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->refresh_hash, s.refresh_hash);
  EXPECT_EQ(found->prev_refresh_hash, s.prev_refresh_hash);
  EXPECT_EQ(found->next_refresh_sealed, s.next_refresh_sealed);
  EXPECT_EQ(found->rotated_at, s.rotated_at);
  EXPECT_EQ(found->amr, s.amr);
  transactions.in_transaction([&] { EXPECT_FALSE(sessions.find_for_update(random_uuid())); });
}

TEST_F(SessionLifecycleStoreTest, FindForUpdateMakesASecondRefreshWaitAndSeeTheFirstOnesWrite) {
  const Session s = live_session(owner, 0);
  auto second_connection = new_app_connection();
  MysqlSessionStore second_sessions(*second_connection);
  MysqlTransactionRunner second_transactions(*second_connection);
  second_sessions.find(s.id);  // connected before the race

  std::atomic<bool> second_has_row = false;
  std::optional<Session> seen_by_second;
  std::barrier first_holds_lock(2);
  std::thread second([&] {
    first_holds_lock.arrive_and_wait();
    second_transactions.in_transaction([&] {
      seen_by_second = second_sessions.find_for_update(s.id);
      second_has_row = true;
    });
  });
  transactions.in_transaction([&] {
    ASSERT_TRUE(sessions.find_for_update(s.id).has_value());
    first_holds_lock.arrive_and_wait();
    // The second transaction is queued on the row lock for as long as we
    // hold it.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(second_has_row.load()) << "the second locking read did not wait";
    sessions.rotate_refresh(s.id, s.refresh_hash, digest_of('n'), "sealed-bytes", kNow + 5);
  });
  second.join();
  ASSERT_TRUE(seen_by_second.has_value());
  EXPECT_EQ(seen_by_second->refresh_hash, digest_of('n')) << "it read the committed rotation";
  EXPECT_EQ(seen_by_second->prev_refresh_hash, s.refresh_hash);
}

TEST_F(SessionLifecycleStoreTest, ListLiveLeavesOutRevokedExpiredIdleAndOtherUsers) {
  const Session fresh = live_session(owner, 10);
  Session revoked = live_session(owner, 5);
  ASSERT_TRUE(sessions.revoke(revoked.id, kNow - 1));
  Session expired = sample_session(owner.id);
  expired.revoked_at.reset();
  expired.last_used_at = kNow - 10;
  expired.expires_at = kNow;  // the absolute end is now: no longer live
  sessions.insert(expired);
  const Session idle = live_session(owner, kIdle);  // last used exactly one idle lifetime ago
  const Session almost_idle = live_session(owner, kIdle - 1);
  live_session(other, 1);

  EXPECT_EQ(live_ids(owner), (std::vector<Uuid>{fresh.id, almost_idle.id}));
  // One second later the second one is idle too.
  const auto later = sessions.list_live(owner.id, kNow + 1, kIdle);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].id, fresh.id);
  (void)idle;
}

TEST_F(SessionLifecycleStoreTest, ListLiveIsMostRecentlyUsedFirstTiesNewestFirst) {
  const Session old_used = live_session_with_order(owner, 300, 1);
  const Session tie_older = live_session_with_order(owner, 60, 2);
  const Session tie_newer = live_session_with_order(owner, 60, 3);
  const Session recent = live_session_with_order(owner, 1, 0);  // oldest id, used last
  EXPECT_EQ(live_ids(owner),
            (std::vector<Uuid>{recent.id, tie_newer.id, tie_older.id, old_used.id}));
}

TEST_F(SessionLifecycleStoreTest, RevokeEndsOnceAndKeepsTheFirstTime) {
  const Session s = live_session(owner, 0);
  EXPECT_TRUE(sessions.revoke(s.id, kNow));
  EXPECT_FALSE(sessions.revoke(s.id, kNow + 50)) << "already ended";
  EXPECT_EQ(sessions.find(s.id)->revoked_at, kNow);
  EXPECT_FALSE(sessions.revoke(random_uuid(), kNow)) << "no such session";
  EXPECT_TRUE(live_ids(owner).empty());
}

TEST_F(SessionLifecycleStoreTest, CapEndsTheLeastRecentlyUsedTiesTheOlderFirst) {
  const Session a = live_session_with_order(owner, 500, 1);  // least recently used
  const Session b = live_session_with_order(owner, 100, 2);  // tie, created first
  const Session c = live_session_with_order(owner, 100, 3);  // tie, created second
  const Session d = live_session_with_order(owner, 0, 4);    // most recent
  const Session theirs = live_session_with_order(other, 900, 5);

  EXPECT_EQ(sessions.revoke_least_recently_used(owner.id, 4, kNow, kIdle), 0) << "at the cap";
  EXPECT_EQ(sessions.revoke_least_recently_used(owner.id, 3, kNow, kIdle), 1);
  EXPECT_EQ(sessions.find(a.id)->revoked_at, kNow);
  EXPECT_EQ(sessions.revoke_least_recently_used(owner.id, 2, kNow, kIdle), 1);
  EXPECT_EQ(sessions.find(b.id)->revoked_at, kNow) << "of the tie, the older goes first";
  EXPECT_FALSE(sessions.find(c.id)->revoked_at);
  EXPECT_EQ(live_ids(owner), (std::vector<Uuid>{d.id, c.id}));
  EXPECT_FALSE(sessions.find(theirs.id)->revoked_at) << "another user's sessions are not counted";
}

TEST_F(SessionLifecycleStoreTest, CapEndsEveryOneOverItInOneGo) {
  const Session a = live_session_with_order(owner, 300, 1);
  const Session b = live_session_with_order(owner, 200, 2);
  const Session c = live_session_with_order(owner, 100, 3);
  const Session d = live_session_with_order(owner, 0, 4);
  EXPECT_EQ(sessions.revoke_least_recently_used(owner.id, 1, kNow, kIdle), 3);
  EXPECT_EQ(live_ids(owner), (std::vector<Uuid>{d.id}));
  for (const Session& ended : {a, b, c})
    EXPECT_EQ(sessions.find(ended.id)->revoked_at, kNow);
}

TEST_F(SessionLifecycleStoreTest, CapCountsOnlyLiveSessions) {
  Session ended = live_session(owner, 1);
  ASSERT_TRUE(sessions.revoke(ended.id, kNow));
  live_session(owner, kIdle + 5);  // idle: not live, not counted
  const Session live = live_session(owner, 2);
  EXPECT_EQ(sessions.revoke_least_recently_used(owner.id, 1, kNow, kIdle), 0);
  EXPECT_EQ(live_ids(owner), (std::vector<Uuid>{live.id}));
}

TEST_F(SessionLifecycleStoreTest, RotateMovesTheDigestsAndRecordsTheSpentOne) {
  const Session s = live_session(owner, 100);
  const std::string sealed("\x00\x01sealed\xff", 9);
  transactions.in_transaction(
      [&] { sessions.rotate_refresh(s.id, s.refresh_hash, digest_of('b'), sealed, kNow); });
  const Session after = *sessions.find(s.id);
  EXPECT_EQ(after.refresh_hash, digest_of('b'));
  EXPECT_EQ(after.prev_refresh_hash, s.refresh_hash);
  EXPECT_EQ(after.next_refresh_sealed, sealed);
  EXPECT_EQ(after.rotated_at, kNow);
  EXPECT_EQ(after.last_used_at, kNow) << "a refresh counts as use";
  EXPECT_EQ(after.created_at, s.created_at);
  EXPECT_EQ(after.auth_time, s.auth_time) << "refresh keeps auth_time";
  EXPECT_FALSE(after.revoked_at);
  EXPECT_EQ(count_rows("refresh_token_history"), 1);

  transactions.in_transaction(
      [&] { sessions.rotate_refresh(s.id, digest_of('b'), digest_of('c'), sealed, kNow + 1); });
  EXPECT_EQ(count_rows("refresh_token_history"), 2);
  EXPECT_TRUE(sessions.refresh_was_spent(s.id, s.refresh_hash));
  EXPECT_TRUE(sessions.refresh_was_spent(s.id, digest_of('b')));
  EXPECT_FALSE(sessions.refresh_was_spent(s.id, digest_of('c'))) << "current, not spent";
  EXPECT_FALSE(sessions.refresh_was_spent(s.id, digest_of('z'))) << "never issued";
}

TEST_F(SessionLifecycleStoreTest, SpentTokensBelongToTheirSessionOnly) {
  const Session mine = live_session(owner, 1);
  const Session theirs = live_session(other, 1);
  transactions.in_transaction(
      [&] { sessions.rotate_refresh(mine.id, mine.refresh_hash, digest_of('m'), "s", kNow); });
  EXPECT_TRUE(sessions.refresh_was_spent(mine.id, mine.refresh_hash));
  EXPECT_FALSE(sessions.refresh_was_spent(theirs.id, mine.refresh_hash));
}

TEST_F(SessionLifecycleStoreTest, SpendingTheSameDigestTwiceIsRefusedAndRolledBack) {
  // The history's primary key is the digest: a token can be spent once.
  const Session s = live_session(owner, 1);
  transactions.in_transaction(
      [&] { sessions.rotate_refresh(s.id, s.refresh_hash, digest_of('x'), "s", kNow); });
  EXPECT_THROW(transactions.in_transaction([&] {
    sessions.rotate_refresh(s.id, s.refresh_hash, digest_of('y'), "s", kNow + 1);
  }),
               StoreError);
  EXPECT_EQ(sessions.find(s.id)->refresh_hash, digest_of('x'))
      << "the failed rotation left nothing";
}

TEST_F(SessionLifecycleStoreTest, HistoryGoesWithItsSession) {
  const Session s = live_session(owner, 1);
  transactions.in_transaction(
      [&] { sessions.rotate_refresh(s.id, s.refresh_hash, digest_of('q'), "s", kNow); });
  migrator().execute("DELETE FROM users WHERE id = ?", {owner.id.as_bytes()});
  EXPECT_EQ(count_rows("refresh_token_history"), 0);
  EXPECT_EQ(count_rows("sessions"), 0);
}

}  // namespace
}  // namespace authd::store_test
