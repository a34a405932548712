#include "adapters/mysql/session_store.h"

#include "adapters/mysql/user_store.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

using mysql::MysqlSessionStore;
using mysql::MysqlUserStore;

class SessionStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_EQ(users.insert(owner), UserStore::InsertResult::inserted);
    ASSERT_EQ(users.insert(other), UserStore::InsertResult::inserted);
  }

  std::optional<UnixSeconds> revoked_at(const Uuid& id) { return sessions.find(id)->revoked_at; }

  MysqlUserStore users{app()};
  MysqlSessionStore sessions{app()};
  User owner = sample_user("owner@example.com");
  User other = sample_user("other@example.com");
};

void expect_same(const Session& actual, const Session& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.user_id, expected.user_id);
  EXPECT_EQ(actual.created_at, expected.created_at);
  EXPECT_EQ(actual.last_used_at, expected.last_used_at);
  EXPECT_EQ(actual.expires_at, expected.expires_at);
  EXPECT_EQ(actual.auth_time, expected.auth_time);
  EXPECT_EQ(actual.revoked_at, expected.revoked_at);
  EXPECT_EQ(actual.amr, expected.amr);
  EXPECT_EQ(actual.user_agent, expected.user_agent);
  EXPECT_EQ(actual.ip, expected.ip);
  EXPECT_EQ(actual.refresh_hash, expected.refresh_hash);
  EXPECT_EQ(actual.prev_refresh_hash, expected.prev_refresh_hash);
  EXPECT_EQ(actual.next_refresh_sealed, expected.next_refresh_sealed);
  EXPECT_EQ(actual.rotated_at, expected.rotated_at);
}

TEST_F(SessionStoreTest, InsertAndFindRoundTripEveryField) {
  Session session = sample_session(owner.id);
  session.revoked_at = 1'700'000'200;
  sessions.insert(session);
  const auto found = sessions.find(session.id);
  ASSERT_TRUE(found.has_value());
  expect_same(*found, session);
}

// GET /auth/me's one statement reads what find() and find_by_id() read.
TEST_F(SessionStoreTest, FindWithUserJoinsTheSessionToItsUser) {
  Session session = sample_session(owner.id);
  session.revoked_at = 1'700'000'300;
  sessions.insert(session);
  ASSERT_TRUE(users.set_disabled(owner.id, 1'700'000'400));
  const auto found = sessions.find_with_user(session.id, users);
  ASSERT_TRUE(found.has_value());
  expect_same(found->session, *sessions.find(session.id));
  const auto user = users.find_by_id(owner.id);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(found->user.id, user->id);
  EXPECT_EQ(found->user.email, user->email);
  EXPECT_EQ(found->user.password_hash, user->password_hash);
  EXPECT_EQ(found->user.created_at, user->created_at);
  EXPECT_EQ(found->user.password_changed_at, user->password_changed_at);
  EXPECT_EQ(found->user.disabled_at, user->disabled_at);
  EXPECT_EQ(found->user.email_verified_at, user->email_verified_at);
  EXPECT_EQ(found->user.mfa_enabled, user->mfa_enabled);
  EXPECT_EQ(found->passkeys, std::optional<unsigned>(0u)) << "read in the same statement";
  EXPECT_FALSE(
      sessions.find_with_user(Uuid::parse("01890a5d-ac96-774b-bcce-b302099a8057").value(), users))
      << "no such session";
}

TEST_F(SessionStoreTest, AbsentOptionalFieldsRoundTripAsNull) {
  Session session = sample_session(owner.id);
  session.revoked_at.reset();
  session.rotated_at.reset();
  session.refresh_hash.clear();
  session.prev_refresh_hash.clear();
  session.next_refresh_sealed.clear();
  session.user_agent.clear();
  sessions.insert(session);
  const auto found = sessions.find(session.id);
  ASSERT_TRUE(found.has_value());
  expect_same(*found, session);

  // Stored as NULL, not as empty or zero-padded bytes.
  const auto row = migrator()
                       .query(
                           "SELECT refresh_hash IS NULL, prev_refresh_hash IS NULL,"
                           " next_refresh_sealed IS NULL, revoked_at IS NULL,"
                           " rotated_at IS NULL FROM sessions WHERE id = ?",
                           {session.id.as_bytes()})
                       .at(0);
  for (std::size_t column = 0; column < row.size(); ++column) {
    EXPECT_EQ(row.int64(column), 1) << column;
  }
}

TEST_F(SessionStoreTest, SessionsWithoutRefreshHashDoNotCollide) {
  Session first = sample_session(owner.id);
  Session second = sample_session(owner.id);
  first.refresh_hash.clear();
  second.refresh_hash.clear();
  sessions.insert(first);
  EXPECT_NO_THROW(sessions.insert(second));
}

TEST_F(SessionStoreTest, LongUserAgentIsCutToTheColumn) {
  Session session = sample_session(owner.id);
  session.user_agent = std::string(2000, 'u');
  sessions.insert(session);
  EXPECT_EQ(sessions.find(session.id)->user_agent, std::string(512, 'u'));
}

TEST_F(SessionStoreTest, SessionOfAnUnknownUserIsRefused) {
  EXPECT_THROW(sessions.insert(sample_session(random_uuid())), StoreError);
}

TEST_F(SessionStoreTest, UnknownSessionIsNotFound) {
  EXPECT_EQ(sessions.find(random_uuid()), std::nullopt);
}

TEST_F(SessionStoreTest, RevokeAllEndsEveryLiveSessionOfTheUserOnly) {
  const Session a = sample_session(owner.id);
  const Session b = sample_session(owner.id);
  Session c = sample_session(owner.id);
  c.refresh_hash.clear();
  Session already = sample_session(owner.id);
  already.revoked_at = 1'700'000'300;
  const Session others = sample_session(other.id);
  for (const Session& session : {a, b, c, already, others})
    sessions.insert(session);

  EXPECT_EQ(sessions.revoke_all_for_user(owner.id, 1'700'001'000), 3);
  EXPECT_EQ(revoked_at(a.id), 1'700'001'000);
  EXPECT_EQ(revoked_at(b.id), 1'700'001'000);
  EXPECT_EQ(revoked_at(c.id), 1'700'001'000);
  EXPECT_EQ(revoked_at(already.id), 1'700'000'300);  // its first end stays
  EXPECT_EQ(revoked_at(others.id), std::nullopt);
  EXPECT_EQ(sessions.revoke_all_for_user(owner.id, 1'700'002'000), 0);
}

TEST_F(SessionStoreTest, RevokeAllCanKeepTheCurrentSession) {
  const Session current = sample_session(owner.id);
  const Session a = sample_session(owner.id);
  const Session b = sample_session(owner.id);
  for (const Session& session : {current, a, b})
    sessions.insert(session);

  EXPECT_EQ(sessions.revoke_all_for_user(owner.id, 1'700'001'000, current.id), 2);
  EXPECT_EQ(revoked_at(current.id), std::nullopt);
  EXPECT_EQ(revoked_at(a.id), 1'700'001'000);
  EXPECT_EQ(revoked_at(b.id), 1'700'001'000);
}

TEST_F(SessionStoreTest, RevokeAllOfAUserWithoutSessionsIsZero) {
  EXPECT_EQ(sessions.revoke_all_for_user(random_uuid(), 1'700'001'000), 0);
  EXPECT_EQ(sessions.revoke_all_for_user(owner.id, 1'700'001'000, random_uuid()), 0);
}

}  // namespace
}  // namespace authd::store_test
