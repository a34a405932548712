// The admin API's stores against a real MariaDB: keys found by digest,
// unique names among active keys, last use written at most once a minute;
// the account directory's order, filters (with `%`, `_` and `!` literal)
// and its cursor.
#include "adapters/mysql/admin_store.h"

#include <gtest/gtest.h>

#include "adapters/mysql/passkey_store.h"
#include "adapters/mysql/transaction_runner.h"
#include "adapters/mysql/user_store.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

constexpr UnixSeconds kNow = 1'800'000'000;

class AdminStoreTest : public StoreTest {
 protected:
  mysql::MysqlAdminKeyStore keys{app()};
  mysql::MysqlAccountDirectory directory{app()};
  mysql::MysqlUserStore users{app()};

  AdminKey key(std::string name, std::string hash) {
    AdminKey k;
    k.id = random_uuid();
    k.name = std::move(name);
    k.key_hash = std::move(hash);
    k.scopes = "users:read";
    k.created_at = kNow;
    return k;
  }
  // Accounts whose ids go up with i (UUIDv7-like: the first bytes order them).
  User account(int i, std::string email) {
    User u = sample_user(std::move(email));
    u.id = random_uuid();
    u.id.bytes[0] = 0x01;
    u.id.bytes[1] = static_cast<std::uint8_t>(i);
    EXPECT_EQ(users.insert(u), UserStore::InsertResult::inserted);
    return u;
  }
  std::vector<std::string> emails(const AccountDirectory::Query& q) {
    std::vector<std::string> out;
    for (const auto& a : directory.list(q))
      out.push_back(a.user.email);
    return out;
  }
};

TEST_F(AdminStoreTest, KeysAreFoundByDigestAndNamesAreUniqueAmongActiveOnes) {
  const std::string digest(32, 'd');
  ASSERT_EQ(keys.insert(key("backoffice", digest)), AdminKeyStore::InsertResult::inserted);
  EXPECT_EQ(keys.insert(key("backoffice", std::string(32, 'e'))),
            AdminKeyStore::InsertResult::name_taken);
  auto found = keys.find_by_hash(digest);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "backoffice");
  EXPECT_FALSE(found->revoked_at);
  EXPECT_FALSE(keys.find_by_hash(std::string(32, 'x')));
  EXPECT_TRUE(keys.revoke("backoffice", kNow + 5));
  EXPECT_FALSE(keys.revoke("backoffice", kNow + 6));
  EXPECT_EQ(keys.find_by_hash(digest)->revoked_at, kNow + 5);
  EXPECT_EQ(keys.insert(key("backoffice", std::string(32, 'f'))),
            AdminKeyStore::InsertResult::inserted)
      << "a revoked name may be used again";
  EXPECT_EQ(keys.list().size(), 2u);
}

TEST_F(AdminStoreTest, LastUseIsWrittenOnlyWhenOlderThanTheGivenTime) {
  AdminKey k = key("backoffice", std::string(32, 'd'));
  ASSERT_EQ(keys.insert(k), AdminKeyStore::InsertResult::inserted);
  keys.record_use(k.id, kNow, kNow - 60);
  EXPECT_EQ(keys.find_by_hash(k.key_hash)->last_used_at, kNow);
  keys.record_use(k.id, kNow + 30, kNow + 30 - 60);
  EXPECT_EQ(keys.find_by_hash(k.key_hash)->last_used_at, kNow) << "within the minute";
  keys.record_use(k.id, kNow + 60, kNow);
  EXPECT_EQ(keys.find_by_hash(k.key_hash)->last_used_at, kNow + 60);
}

TEST_F(AdminStoreTest, AccountsNewestFirstByExactAddressOrLiteralPrefix) {
  account(1, "ann@example.com");
  account(2, "ann_b@example.com");
  account(3, "annxb@example.com");
  account(4, "an%n@example.com");
  account(5, "a!n@example.com");
  const User last = account(6, "bob@example.com");
  AccountDirectory::Query q;
  q.limit = 10;
  EXPECT_EQ(emails(q), (std::vector<std::string>{"bob@example.com", "a!n@example.com",
                                                 "an%n@example.com", "annxb@example.com",
                                                 "ann_b@example.com", "ann@example.com"}));
  q.email = "ann@example.com";
  EXPECT_EQ(emails(q), std::vector<std::string>{"ann@example.com"});
  q.prefix = true;
  q.email = "ann_";
  EXPECT_EQ(emails(q), std::vector<std::string>{"ann_b@example.com"}) << "`_` is literal";
  q.email = "an%";
  EXPECT_EQ(emails(q), std::vector<std::string>{"an%n@example.com"}) << "`%` is literal";
  q.email = "a!";
  EXPECT_EQ(emails(q), std::vector<std::string>{"a!n@example.com"}) << "`!` is literal";
  q.email = "ann";
  q.limit = 2;
  EXPECT_EQ(emails(q), (std::vector<std::string>{"annxb@example.com", "ann_b@example.com"}));
  q.before = directory.list(q).back().user.id;
  EXPECT_EQ(emails(q), std::vector<std::string>{"ann@example.com"});
  q = {};
  q.before = last.id;
  q.limit = 1;
  EXPECT_EQ(emails(q), std::vector<std::string>{"a!n@example.com"});
  auto found = directory.find(last.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user.email, "bob@example.com");
  EXPECT_EQ(found->passkeys, 0u);
  EXPECT_FALSE(directory.find(random_uuid()));
}

TEST_F(AdminStoreTest, AnAccountShowsHowManyPasskeysItHas) {
  const User ann = account(1, "ann@example.com");
  const User bob = account(2, "bob@example.com");
  mysql::MysqlPasskeyStore passkeys(app());
  mysql::MysqlTransactionRunner tx(app());
  for (int i = 0; i < 2; ++i) {
    Passkey p;
    p.id = random_uuid();
    p.user_id = ann.id;
    p.credential_id = "credential-" + std::to_string(i);
    p.alg = -7;
    p.public_key = std::string(64, 'k');
    p.aaguid = std::string(16, '\0');
    p.name = "Laptop";
    p.created_at = kNow;
    tx.in_transaction([&] { ASSERT_EQ(passkeys.add(p, 10), PasskeyStore::AddResult::added); });
  }
  EXPECT_EQ(directory.find(ann.id)->passkeys, 2u);
  EXPECT_EQ(directory.find(bob.id)->passkeys, 0u);
  AccountDirectory::Query q;
  q.limit = 10;
  const auto listed = directory.list(q);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].user.id, bob.id);
  EXPECT_EQ(listed[0].passkeys, 0u);
  EXPECT_EQ(listed[1].passkeys, 2u);
}

TEST(LikePrefixPattern, EscapesItsOwnEscapeAndTheWildcards) {
  EXPECT_EQ(mysql::like_prefix_pattern("a_b%c!d"), "a!_b!%c!!d%");
  EXPECT_EQ(mysql::like_prefix_pattern(""), "%");
}

}  // namespace
}  // namespace authd::store_test
