// Closing an account against a real MariaDB: erase_account leaves no row of
// the account in any table (the list read from information_schema, so a
// table a later migration adds is scanned too) and touches no other
// account's rows; a pending mail request a mailer holds is skipped, not
// waited for; a login racing the closing opens no session.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "adapters/mysql/email_token_store.h"
#include "adapters/mysql/mfa_store.h"
#include "adapters/mysql/outbox_store.h"
#include "adapters/mysql/passkey_store.h"
#include "adapters/mysql/session_store.h"
#include "adapters/mysql/throttle_store.h"
#include "adapters/mysql/transaction_runner.h"
#include "adapters/mysql/user_store.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

using mysql::Row;
using mysql::Rows;

constexpr UnixSeconds kNow = 1'800'000'000;

// A cell as bytes, whatever its kind (NULL: nullopt).
std::optional<std::string> cell_text(const Row& row, std::size_t i) {
  if (row.is_null(i)) return std::nullopt;
  try {
    return row.bytes(i);
  } catch (const StoreError&) {
  }
  try {
    return std::to_string(row.int64(i));
  } catch (const StoreError&) {
  }
  return std::to_string(row.time(i));
}

using TableRows = std::map<std::string, std::multiset<std::vector<std::optional<std::string>>>>;

class AccountEraseTest : public StoreTest {
 protected:
  mysql::MysqlUserStore users{app()};
  mysql::MysqlSessionStore sessions{app()};
  mysql::MysqlMfaStore mfa{app()};
  mysql::MysqlEmailTokenStore tokens{app()};
  mysql::MysqlOutboxStore outbox{app()};
  mysql::MysqlMailRequestStore requests{app()};
  mysql::MysqlThrottleStore throttle{app()};
  mysql::MysqlPasskeyStore passkeys{app()};

  // Every base table and which of its columns are BINARY (ids, digests).
  std::map<std::string, std::vector<bool>> tables() {
    std::map<std::string, std::vector<bool>> out;
    const Rows rows = migrator().query(
        "SELECT c.TABLE_NAME, c.COLUMN_TYPE LIKE 'binary(%' FROM information_schema.COLUMNS c"
        " JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA"
        " AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE'"
        " WHERE c.TABLE_SCHEMA = DATABASE() ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION");
    for (const Row& r : rows)
      out[r.bytes(0)].push_back(r.int64(1) != 0);
    return out;
  }
  TableRows snapshot() {
    TableRows out;
    for (const auto& [table, columns] : tables()) {
      auto& rows = out[table];
      for (const Row& r : migrator().query("SELECT * FROM `" + table + "`")) {
        std::vector<std::optional<std::string>> cells;
        for (std::size_t i = 0; i < r.size(); ++i)
          cells.push_back(cell_text(r, i));
        rows.insert(std::move(cells));
      }
    }
    return out;
  }
  // The rows of an account: holding its id, email or the email's SHA-256,
  // and to a fixed point, an id or digest of such a row (a session's refresh
  // history names the session, not the account).
  std::set<std::string> needles_of(const User& u, const TableRows& rows) {
    std::set<std::string> needles{std::string(u.id.as_bytes()), u.email,
                                  mysql::throttle_email_key(u.email)};
    const auto binary = tables();
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& [table, set] : rows) {
        for (const auto& row : set) {
          if (!holds_any(row, needles)) continue;
          for (std::size_t i = 0; i < row.size(); ++i) {
            if (binary.at(table)[i] && row[i] && needles.insert(*row[i]).second) grew = true;
          }
        }
      }
    }
    return needles;
  }
  static bool holds_any(const std::vector<std::optional<std::string>>& row,
                        const std::set<std::string>& needles) {
    for (const auto& cell : row) {
      if (!cell) continue;
      for (const auto& n : needles)
        if (cell->find(n) != std::string::npos) return true;
    }
    return false;
  }

  // A row in every table an account has rows in.
  User give_everything(const std::string& email) {
    User u = sample_user(email);
    u.id = random_uuid();
    EXPECT_EQ(users.insert(u), UserStore::InsertResult::inserted);
    Session s = sample_session(u.id);
    sessions.insert(s);
    sessions.rotate_refresh(s.id, random_digest(), random_digest(), "sealed", kNow);
    mfa.replace_recovery_codes(u.id, {"$argon2id$one", "$argon2id$two"});
    MfaChallenge c;
    c.token_hash = random_digest();
    c.user_id = u.id;
    c.ip = "203.0.113.7";
    c.created_at = kNow;
    c.expires_at = kNow + 300;
    mfa.insert_challenge(c);
    EmailToken t;
    t.hash = random_digest();
    t.user_id = u.id;
    t.purpose = LinkPurpose::reset_password;
    t.created_at = kNow;
    t.expires_at = kNow + 1800;
    tokens.insert(t);
    OutgoingMail m;
    m.user_id = u.id;
    m.kind = MailKind::reset_password;
    m.recipient = email;
    m.message = "Subject: x\r\n\r\nlink";
    m.created_at = kNow;
    m.expires_at = kNow + 1800;
    outbox.enqueue(m);
    requests.add(LinkPurpose::reset_password, email, kNow, 100);
    throttle.record_failure(email, "203.0.113.7", [](const ThrottleStore::Counters& before) {
      ThrottleStore::Counters after = before;
      after.pair.failures += 1;
      after.pair.last_failure_at = kNow;
      after.email.failures += 1;
      after.email.last_failure_at = kNow;
      return after;
    });
    // A passkey (and with it the account's user handle), and the challenges
    // of a registration and of a second step under way. Every binary value
    // is random, so nothing of one account equals the other's.
    passkeys.user_handle(u.id, random_digest());
    Passkey p;
    p.id = random_uuid();
    p.user_id = u.id;
    p.credential_id = random_digest();
    p.alg = -7;
    p.public_key = std::string(64, 'k');
    p.aaguid = std::string(random_uuid().as_bytes());
    p.transports = "internal";
    p.name = "Laptop";
    p.created_at = kNow;
    mysql::MysqlTransactionRunner tx(app());
    tx.in_transaction([&] { EXPECT_EQ(passkeys.add(p, 10), PasskeyStore::AddResult::added); });
    WebAuthnChallenge registration;
    registration.challenge_hash = random_digest();
    registration.purpose = ChallengePurpose::registration;
    registration.user_id = u.id;
    registration.created_at = kNow;
    registration.expires_at = kNow + 300;
    passkeys.insert_challenge(registration);
    WebAuthnChallenge second_step = registration;
    second_step.challenge_hash = random_digest();
    second_step.purpose = ChallengePurpose::second_factor;
    second_step.mfa_token_hash = c.token_hash;
    passkeys.insert_challenge(second_step);
    // A passwordless login's challenge names nobody: it stays.
    WebAuthnChallenge login = registration;
    login.challenge_hash = random_digest();
    login.purpose = ChallengePurpose::login;
    login.user_id.reset();
    passkeys.insert_challenge(login);
    return u;
  }
  static std::string random_digest() {
    const Uuid a = random_uuid();
    const Uuid b = random_uuid();
    return std::string(a.as_bytes()) + std::string(b.as_bytes());
  }
};

TEST_F(AccountEraseTest, NoRowOfTheAccountIsLeftAndNoOtherRowIsTouched) {
  const User closing = give_everything("closing@example.com");
  const User other = give_everything("other@example.com");
  const TableRows before = snapshot();
  const auto needles = needles_of(closing, before);
  // Every table an account can have rows in holds some of the closing one's.
  for (const char* table :
       {"users", "sessions", "refresh_token_history", "mfa_recovery_codes", "mfa_challenges",
        "email_tokens", "mail_outbox", "mail_requests", "login_throttle", "passkeys",
        "passkey_user_handles", "webauthn_challenges"}) {
    bool found = false;
    for (const auto& row : before.at(table))
      found |= holds_any(row, needles);
    EXPECT_TRUE(found) << "nothing to erase in " << table;
  }

  bool erased = false;
  mysql::MysqlTransactionRunner tx(app());
  tx.in_transaction([&] {
    ASSERT_TRUE(users.find_by_id_for_update(closing.id));
    erased = users.erase_account(closing.id, closing.email);
  });
  EXPECT_TRUE(erased);

  const TableRows after = snapshot();
  for (const auto& [table, rows] : after) {
    for (const auto& row : rows)
      EXPECT_FALSE(holds_any(row, needles)) << "a row of the closed account is left in " << table;
  }
  for (const auto& [table, rows] : before) {
    for (const auto& row : rows) {
      if (holds_any(row, needles)) continue;
      EXPECT_EQ(after.at(table).count(row), rows.count(row))
          << "a row changed or went in " << table;
    }
  }
  EXPECT_TRUE(users.find_by_id(other.id));
  EXPECT_FALSE(users.find_by_id(closing.id));
}

TEST_F(AccountEraseTest, AMissingAccountErasesNothingElse) {
  give_everything("other@example.com");
  const TableRows before = snapshot();
  bool erased = true;
  mysql::MysqlTransactionRunner tx(app());
  tx.in_transaction([&] { erased = users.erase_account(random_uuid(), "nobody@example.com"); });
  EXPECT_FALSE(erased);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(AccountEraseTest, ARequestAMailerHoldsIsSkippedNotWaitedFor) {
  const User closing = give_everything("closing@example.com");
  // A mailer holds the request (as it does while it answers it).
  auto mailer = new_app_connection();
  mysql::MysqlMailRequestStore mailer_requests(*mailer);
  mysql::MysqlTransactionRunner mailer_tx(*mailer);
  mailer_tx.in_transaction([&] {
    ASSERT_TRUE(mailer_requests.claim_next());
    mysql::MysqlTransactionRunner tx(app());
    const auto started = std::chrono::steady_clock::now();
    tx.in_transaction([&] { EXPECT_TRUE(users.erase_account(closing.id, closing.email)); });
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  });
}

TEST_F(AccountEraseTest, RecordLoginIsFalseForAnAccountThatIsGone) {
  const User u = sample_user("gone@example.com");
  ASSERT_EQ(users.insert(u), UserStore::InsertResult::inserted);
  EXPECT_TRUE(users.record_login(u.id, kNow));
  EXPECT_EQ(users.find_by_id(u.id)->last_login_at, kNow);
  mysql::MysqlTransactionRunner tx(app());
  tx.in_transaction([&] { users.erase_account(u.id, u.email); });
  EXPECT_FALSE(users.record_login(u.id, kNow + 1));
}

TEST_F(AccountEraseTest, TheClosingNoticeNamesNoAccountAndGoesOnceSent) {
  OutgoingMail m;
  m.kind = MailKind::account_closed;
  m.recipient = "gone@example.com";
  m.message = "Subject: Your account was closed\r\n\r\nbye";
  m.created_at = kNow;
  m.expires_at = kNow + 3 * 86400;
  outbox.enqueue(m);
  mysql::MysqlTransactionRunner tx(app());
  tx.in_transaction([&] {
    auto p = outbox.claim_next_due(kNow);
    ASSERT_TRUE(p);
    EXPECT_FALSE(p->user_id);
    EXPECT_EQ(p->kind, MailKind::account_closed);
    outbox.mark_sent(p->id, kNow);
  });
  EXPECT_EQ(count_rows("mail_outbox"), 0);
  outbox.enqueue(m);
  tx.in_transaction([&] { outbox.mark_abandoned(outbox.claim_next_due(kNow)->id, kNow); });
  EXPECT_EQ(count_rows("mail_outbox"), 0);
}

}  // namespace
}  // namespace authd::store_test
