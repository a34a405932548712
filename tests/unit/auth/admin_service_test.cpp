// The admin API's use cases over the fakes: keys and scopes, the search and
// its cursor, invitations, and the account actions by id.
#include "auth/admin_service.h"

#include <gtest/gtest.h>

#include "auth/link_token.h"
#include "fakes/admin_fakes.h"
#include "fakes/service_fixture.h"

namespace authd {
namespace {

using testing::kOtherStrongPassword;
using testing::kStrongPassword;

class AdminServiceTest : public ::testing::Test {
 protected:
  testing::ServiceWorld w;
  testing::InMemoryAdminKeyStore keys;
  testing::InMemoryAccountDirectory directory{w.users, w.passkeys};
  AdminService admin{
      AdminDeps{w.users, w.sessions, w.throttle, w.mfa, directory, keys, w.transactions, w.hasher,
                w.email_tokens, w.outbox, w.clock, w.random},
      [] {
        AdminPolicy p;
        p.secret_key = std::string(48, 's');
        return p;
      }()};
  AdminKeys key_maker{keys, w.clock, w.random};
  const ClientInfo client{"203.0.113.7", "agent"};

  std::string make_key(std::string_view name, std::string_view scopes) {
    auto made = key_maker.create(name, scopes);
    return std::get<AdminKeys::Created>(made).key;
  }
  AdminCaller caller() { return AdminCaller{Uuid{}, "backoffice"}; }
  User user(std::string_view email) {
    w.clock.advance(1);  // ids in creation order
    return w.auth().register_user(email, kStrongPassword, client).value();
  }
};

TEST_F(AdminServiceTest, KeysAreJudgedByShapeThenDigestThenScope) {
  const std::string reader = make_key("reader", "users:read");
  const std::string writer = make_key("writer", "users:write");
  EXPECT_TRUE(admin.authenticate(reader, AdminScope::users_read).ok());
  EXPECT_TRUE(admin.authenticate(writer, AdminScope::users_read).ok()) << "write includes read";
  EXPECT_TRUE(admin.authenticate(writer, AdminScope::users_write).ok());
  std::string name;
  auto denied = admin.authenticate(reader, AdminScope::users_write, &name);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, AuthErrc::insufficient_scope);
  EXPECT_EQ(name, "reader");

  const int lookups = keys.lookups;
  // An access token, or anything not of a key's shape: no lookup at all.
  const std::vector<std::string> not_keys = {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "",
                                             "authd_admin_short",
                                             "authd_admin_" + std::string(43, '!')};
  for (const std::string& not_a_key : not_keys) {
    auto r = admin.authenticate(not_a_key, AdminScope::users_read);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, AuthErrc::invalid_token);
  }
  EXPECT_EQ(keys.lookups, lookups);
  auto unknown = admin.authenticate("authd_admin_" + std::string(43, 'A'), AdminScope::users_read);
  EXPECT_EQ(unknown.error().code, AuthErrc::invalid_token);
}

TEST_F(AdminServiceTest, ARevokedKeyIsRefusedAtOnce) {
  const std::string key = make_key("backoffice", "users:read");
  ASSERT_TRUE(admin.authenticate(key, AdminScope::users_read).ok());
  ASSERT_TRUE(key_maker.revoke("backoffice"));
  std::string name;
  auto r = admin.authenticate(key, AdminScope::users_read, &name);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::invalid_token);
  EXPECT_EQ(name, "backoffice") << "named in the audit line";
  EXPECT_FALSE(key_maker.revoke("backoffice")) << "no active key of that name";
  EXPECT_FALSE(
      std::holds_alternative<AdminKeys::CreateError>(key_maker.create("backoffice", "users:read")))
      << "a revoked name may be used again";
}

TEST_F(AdminServiceTest, LastUsedIsWrittenAtMostOnceAMinute) {
  const std::string key = make_key("backoffice", "users:read");
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(admin.authenticate(key, AdminScope::users_read).ok());
  EXPECT_EQ(keys.use_writes, 1);
  w.clock.advance(59);
  ASSERT_TRUE(admin.authenticate(key, AdminScope::users_read).ok());
  EXPECT_EQ(keys.use_writes, 1);
  w.clock.advance(1);
  ASSERT_TRUE(admin.authenticate(key, AdminScope::users_read).ok());
  EXPECT_EQ(keys.use_writes, 2);
  EXPECT_EQ(keys.keys[0].last_used_at, w.clock.now());
}

TEST_F(AdminServiceTest, TheKeyIsStoredOnlyAsItsDigest) {
  auto made =
      std::get<AdminKeys::Created>(key_maker.create("backoffice", "users:write, users:read"));
  EXPECT_TRUE(made.key.starts_with("authd_admin_"));
  EXPECT_EQ(made.key.size(), std::string("authd_admin_").size() + 43);
  EXPECT_EQ(keys.keys[0].key_hash, admin_key_digest(made.key));
  EXPECT_EQ(keys.keys[0].scopes, "users:read,users:write");
  EXPECT_EQ(keys.keys[0].key_hash.find(made.key.substr(12, 8)), std::string::npos);
}

TEST_F(AdminServiceTest, KeyNamesAndScopesAreChecked) {
  using E = AdminKeys::CreateError;
  auto error = [&](std::string_view name, std::string_view scopes) {
    auto r = key_maker.create(name, scopes);
    return std::holds_alternative<E>(r) ? std::optional<E>(std::get<E>(r)) : std::nullopt;
  };
  EXPECT_EQ(error("Back Office", "users:read"), E::invalid_name);
  EXPECT_EQ(error(std::string(65, 'a'), "users:read"), E::invalid_name);
  EXPECT_EQ(error("ok", "users:admin"), E::unknown_scope);
  EXPECT_EQ(error("ok", ""), E::unknown_scope);
  EXPECT_EQ(error("ok", "users:read,"), E::unknown_scope);
  EXPECT_EQ(error("ok.name_1-2", "users:read"), std::nullopt);
  EXPECT_EQ(error("ok.name_1-2", "users:read"), E::name_taken);
}

TEST_F(AdminServiceTest, TheSearchIsNormalisedAndATrailingStarMakesAPrefix) {
  auto s = AdminService::search_for("  Ann.B+x@Example.COM* ");
  EXPECT_EQ(s.email, "ann.b+x@example.com");
  EXPECT_TRUE(s.prefix);
  s = AdminService::search_for("a*b@x.com");
  EXPECT_EQ(s.email, "a*b@x.com");
  EXPECT_FALSE(s.prefix) << "only a trailing star is a wildcard";
}

TEST_F(AdminServiceTest, PagesGoNewestFirstAndTheCursorBelongsToItsSearch) {
  std::vector<Uuid> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(user("u" + std::to_string(i) + "@example.com").id);
  user("other@example.org");
  auto search = AdminService::search_for("u*");
  auto page = admin.list_accounts(caller(), search, 2, 2);
  ASSERT_EQ(page.accounts.size(), 2u);
  EXPECT_EQ(page.accounts[0].user.id, ids[4]);
  EXPECT_EQ(page.accounts[1].user.id, ids[3]);
  ASSERT_TRUE(page.next_cursor);

  // Meanwhile one seen and one not seen go, and a newer one comes.
  w.users.erase_account(ids[4], "u4@example.com");
  w.users.erase_account(ids[1], "u1@example.com");
  user("u9@example.com");
  ASSERT_TRUE(admin.read_cursor(*page.next_cursor, search));
  page = admin.list_accounts(caller(), search, 2, 2);
  ASSERT_EQ(page.accounts.size(), 2u);
  EXPECT_EQ(page.accounts[0].user.id, ids[2]);
  EXPECT_EQ(page.accounts[1].user.id, ids[0]);
  EXPECT_FALSE(page.next_cursor) << "the last page";

  // The cursor of one search is refused by another, and any other string.
  auto first = admin.list_accounts(caller(), AdminService::search_for("u*"), 1, 2);
  auto other = AdminService::search_for("v*");
  EXPECT_FALSE(admin.read_cursor(*first.next_cursor, other));
  auto same = AdminService::search_for("u*");
  std::string tampered = *first.next_cursor;
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(admin.read_cursor(tampered, same));
  EXPECT_FALSE(admin.read_cursor("", same));
  EXPECT_FALSE(admin.read_cursor("not a cursor!", same));
  // ...and by a server with another SECRET_KEY.
  AdminCursor stranger(std::string(48, 't'));
  EXPECT_FALSE(stranger.read(*first.next_cursor, AdminCursor::search_fingerprint("u", true)));
  EXPECT_TRUE(admin.read_cursor(*first.next_cursor, same));
}

TEST_F(AdminServiceTest, AnInvitationIsAnAccountNobodyCanLogInToUntilItsLinkSetsThePassword) {
  auto invited = admin.invite(caller(), "  Bob@Example.com ");
  ASSERT_TRUE(invited.ok());
  const User bob = invited.value().user;
  EXPECT_EQ(bob.email, "bob@example.com");
  EXPECT_EQ(w.auth().login("bob@example.com", kStrongPassword, client).error().code,
            AuthErrc::invalid_credentials);
  ASSERT_EQ(w.outbox.rows.size(), 1u);
  const OutgoingMail& mail = w.outbox.rows.begin()->second.mail;
  EXPECT_EQ(mail.kind, MailKind::invite);
  EXPECT_FALSE(mail.counts_toward_cap);
  EXPECT_EQ(mail.expires_at, w.clock.now() + 604800);
  ASSERT_EQ(w.email_tokens.tokens.size(), 1u);
  EXPECT_EQ(w.email_tokens.tokens.begin()->second.purpose, LinkPurpose::reset_password);
  // The link's token is in the message: it sets the first password.
  const auto at = mail.message.find("#token=");
  ASSERT_NE(at, std::string::npos);
  const std::string token = mail.message.substr(at + 7, 43);
  auto reset = w.auth().reset_password(token, kOtherStrongPassword, client);
  ASSERT_TRUE(reset.ok());
  EXPECT_TRUE(reset.value().user.email_verified_at) << "the link proved the mailbox";
  EXPECT_TRUE(w.auth().login("bob@example.com", kOtherStrongPassword, client).ok());

  EXPECT_EQ(admin.invite(caller(), "bob@example.com").error().code, AuthErrc::email_taken);
  EXPECT_EQ(admin.invite(caller(), "not an email").error().code, AuthErrc::invalid_email);
}

TEST_F(AdminServiceTest, AccountActionsByIdAndIdsThatAreNotAccounts) {
  const User ann = user("ann@example.com");
  auto g = w.auth().login("ann@example.com", kStrongPassword, client).value();
  auto detail = admin.account(caller(), ann.id.to_string());
  ASSERT_TRUE(detail.ok());
  EXPECT_EQ(detail.value().sessions.size(), 1u);
  EXPECT_EQ(detail.value().account.user.last_login_at, w.clock.now());

  auto disabled = admin.disable(caller(), ann.id.to_string());
  ASSERT_TRUE(disabled.ok());
  EXPECT_TRUE(disabled.value().user.disabled_at);
  EXPECT_FALSE(w.auth().authenticate(g.access_token).ok());
  auto enabled = admin.enable(caller(), ann.id.to_string());
  ASSERT_TRUE(enabled.ok());
  EXPECT_FALSE(enabled.value().user.disabled_at);

  auto g2 = w.auth().login("ann@example.com", kStrongPassword, client).value();
  EXPECT_EQ(admin.end_sessions(caller(), ann.id.to_string()).value(), 1);
  EXPECT_FALSE(w.auth().authenticate(g2.access_token).ok());

  ASSERT_TRUE(admin.close(caller(), ann.id.to_string()).ok());
  EXPECT_TRUE(w.users.users.empty());
  const std::vector<std::string> not_accounts = {"nope", "", ann.id.to_string()};
  for (const std::string& id : not_accounts) {
    EXPECT_EQ(admin.account(caller(), id).error().code, AuthErrc::not_found);
    EXPECT_EQ(admin.disable(caller(), id).error().code, AuthErrc::not_found);
    EXPECT_EQ(admin.enable(caller(), id).error().code, AuthErrc::not_found);
    EXPECT_EQ(admin.end_sessions(caller(), id).error().code, AuthErrc::not_found);
    EXPECT_EQ(admin.close(caller(), id).error().code, AuthErrc::not_found);
  }
}

// An invitation whose COMMIT lost to a concurrent one (a failed
// certification on a cluster) is run again whole: one account, one link,
// one message; and one that lost to a sign-up of the same address finds it
// taken.
TEST_F(AdminServiceTest, AnInvitationRunAgainMakesOneAccountOneLinkOneMessage) {
  w.transactions.conflicts_at_commit = 1;
  ASSERT_TRUE(admin.invite(caller(), "bob@example.com").ok());
  EXPECT_EQ(w.transactions.conflicts, 1);
  EXPECT_EQ(w.users.users.size(), 1u);
  EXPECT_EQ(w.email_tokens.tokens.size(), 1u);
  ASSERT_EQ(w.outbox.rows.size(), 1u);
  EXPECT_EQ(w.outbox.rows.begin()->second.mail.kind, MailKind::invite);
}

TEST_F(AdminServiceTest, AnInvitationThatLostToASignUpOfTheAddressFindsItTaken) {
  w.transactions.conflicts_at_commit = 1;
  w.transactions.conflict_winner = [&] { user("bob@example.com"); };
  auto r = admin.invite(caller(), "bob@example.com");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::email_taken);
  EXPECT_EQ(w.users.users.size(), 1u);
  ASSERT_EQ(w.outbox.rows.size(), 1u) << "the sign-up's verification message only";
  EXPECT_EQ(w.outbox.rows.begin()->second.mail.kind, MailKind::verify_email);
}

}  // namespace
}  // namespace authd
