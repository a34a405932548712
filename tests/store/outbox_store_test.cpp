// The outbox and the mail-request queue on a real MariaDB: claims with
// SKIP LOCKED (two mailers never take one message), a claim that dies with
// its connection is taken over, marks and erasure, the cap count.
#include "adapters/mysql/outbox_store.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/mysql/transaction_runner.h"
#include "adapters/mysql/user_store.h"
#include "store_test_support.h"

namespace authd::store_test {
namespace {

using mysql::MysqlMailRequestStore;
using mysql::MysqlOutboxStore;
using mysql::MysqlTransactionRunner;
using mysql::MysqlUserStore;

constexpr UnixSeconds kNow = 1'800'000'000;

class OutboxStoreTest : public StoreTest {
 protected:
  MysqlUserStore users{app()};
  MysqlOutboxStore outbox{app()};
  MysqlMailRequestStore requests{app()};
  User user = sample_user("ann@example.com");

  // After StoreTest::SetUp has emptied the tables.
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_EQ(users.insert(user), UserStore::InsertResult::inserted);
  }

  OutgoingMail mail(std::string text, UnixSeconds created = kNow, bool capped = true) {
    OutgoingMail m;
    m.user_id = user.id;
    m.kind = MailKind::reset_password;
    m.recipient = user.email;
    m.message = std::move(text);
    m.counts_toward_cap = capped;
    m.created_at = created;
    m.expires_at = created + 1800;
    return m;
  }
  std::int64_t pending_count() {
    return migrator().query("SELECT COUNT(*) FROM mail_outbox WHERE state = 0").at(0).int64(0);
  }
};

TEST_F(OutboxStoreTest, EnqueueClaimAndMarkSentErasesTheMessage) {
  // Raw bytes survive: CRLF, a NUL, high bytes.
  const std::string text =
      std::string("Subject: x\r\n\r\n#token=abc\0\xff", 27) + std::string(5000, 'z');
  outbox.enqueue(mail(text));
  MysqlTransactionRunner tx(app());
  tx.in_transaction([&] {
    auto p = outbox.claim_next_due(kNow);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->message, text);
    EXPECT_EQ(p->recipient, "ann@example.com");
    EXPECT_EQ(p->user_id, user.id);
    EXPECT_EQ(p->kind, MailKind::reset_password);
    EXPECT_EQ(p->attempts, 0u);
    EXPECT_EQ(p->expires_at, kNow + 1800);
    outbox.mark_sent(p->id, kNow + 1);
  });
  auto row = migrator().query("SELECT state, message IS NULL, finished_at FROM mail_outbox").at(0);
  EXPECT_EQ(row.int64(0), 1);
  EXPECT_EQ(row.int64(1), 1) << "the message text (and its token) is gone once sent";
  EXPECT_EQ(row.time(2), kNow + 1);
  tx.in_transaction([&] { EXPECT_FALSE(outbox.claim_next_due(kNow + 10).has_value()); });
}

TEST_F(OutboxStoreTest, ARetryWaitsUntilItsTimeAndCounts) {
  outbox.enqueue(mail("m"));
  MysqlTransactionRunner tx(app());
  tx.in_transaction([&] {
    auto p = outbox.claim_next_due(kNow);
    ASSERT_TRUE(p);
    outbox.mark_retry(p->id, kNow + 4, std::string(400, 'e'));
  });
  tx.in_transaction([&] { EXPECT_FALSE(outbox.claim_next_due(kNow + 3)); });
  tx.in_transaction([&] {
    auto p = outbox.claim_next_due(kNow + 4);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->attempts, 1u);
    EXPECT_EQ(p->message, "m");
    outbox.mark_abandoned(p->id, kNow + 5);
  });
  auto row =
      migrator().query("SELECT state, message IS NULL, LENGTH(last_error) FROM mail_outbox").at(0);
  EXPECT_EQ(row.int64(0), 2);
  EXPECT_EQ(row.int64(1), 1);
  EXPECT_EQ(row.int64(2), 255) << "the error is cut to its column";
}

TEST_F(OutboxStoreTest, TwoMailersNeverClaimTheSameMessage) {
  for (int i = 0; i < 3; ++i)
    outbox.enqueue(mail("m" + std::to_string(i)));
  auto other = new_app_connection();
  MysqlOutboxStore other_outbox(*other);
  MysqlTransactionRunner tx(app());
  tx.in_transaction([&] {
    auto mine = outbox.claim_next_due(kNow);
    ASSERT_TRUE(mine);
    // While this transaction holds its row, another mailer gets the next one.
    MysqlTransactionRunner other_tx(*other);
    other_tx.in_transaction([&] {
      auto theirs = other_outbox.claim_next_due(kNow);
      ASSERT_TRUE(theirs);
      EXPECT_NE(theirs->id, mine->id);
      other_outbox.mark_sent(theirs->id, kNow);
    });
    outbox.mark_sent(mine->id, kNow);
  });
  EXPECT_EQ(pending_count(), 1);
}

TEST_F(OutboxStoreTest, ManyMailersAtOnceSendEachMessageExactlyOnce) {
  constexpr int kMessages = 60;
  constexpr int kMailers = 4;
  for (int i = 0; i < kMessages; ++i)
    outbox.enqueue(mail("m" + std::to_string(i)));
  std::mutex lock;
  std::multiset<std::int64_t> sent;
  std::atomic<int> failures{0};
  std::vector<std::thread> mailers;
  for (int t = 0; t < kMailers; ++t) {
    mailers.emplace_back([&] {
      try {
        Connection connection(db_settings(), Account::app);
        MysqlOutboxStore store(connection);
        MysqlTransactionRunner tx(connection);
        for (bool more = true; more;) {
          tx.in_transaction([&] {
            auto p = store.claim_next_due(kNow);
            more = p.has_value();
            if (!more) return;
            // "Sending" takes a moment, with the row held.
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            store.mark_sent(p->id, kNow);
            std::lock_guard<std::mutex> guard(lock);
            sent.insert(p->id);
          });
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failures;
      }
    });
  }
  for (auto& m : mailers)
    m.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(sent.size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(std::set<std::int64_t>(sent.begin(), sent.end()).size(),
            static_cast<std::size_t>(kMessages))
      << "a message was claimed twice";
  EXPECT_EQ(pending_count(), 0);
}

TEST_F(OutboxStoreTest, AClaimThatDiesWithItsMailerIsTakenOver) {
  outbox.enqueue(mail("only"));
  auto doomed = new_app_connection();
  MysqlOutboxStore doomed_outbox(*doomed);
  doomed->begin();
  auto claimed = doomed_outbox.claim_next_due(kNow);
  ASSERT_TRUE(claimed);
  {
    MysqlTransactionRunner tx(app());
    tx.in_transaction([&] { EXPECT_FALSE(outbox.claim_next_due(kNow)) << "held by the claimer"; });
  }
  // The claimer dies mid-send (its connection goes): its row lock goes too.
  kill_session(*doomed);
  MysqlTransactionRunner tx(app());
  tx.in_transaction([&] {
    auto retaken = outbox.claim_next_due(kNow);
    ASSERT_TRUE(retaken);
    EXPECT_EQ(retaken->id, claimed->id);
    EXPECT_EQ(retaken->message, "only");
    outbox.mark_sent(retaken->id, kNow);
  });
  EXPECT_EQ(pending_count(), 0);
}

TEST_F(OutboxStoreTest, ClaimingDoesNotBlockNewMessages) {
  // READ COMMITTED + one locked row: a registration queuing its message
  // while a mailer holds a claim does not wait for the claim to end.
  outbox.enqueue(mail("first"));
  auto mailer = new_app_connection();
  MysqlOutboxStore mailer_outbox(*mailer);
  mailer->begin();
  ASSERT_TRUE(mailer_outbox.claim_next_due(kNow));
  const auto started = std::chrono::steady_clock::now();
  outbox.enqueue(mail("second", kNow + 1));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  mailer->rollback();
}

TEST_F(OutboxStoreTest, TheCapCountsOnlyCappedMessagesInTheWindow) {
  outbox.enqueue(mail("registration", kNow - 10, /*capped=*/false));
  outbox.enqueue(mail("old", kNow - 3601));
  outbox.enqueue(mail("edge", kNow - 3600));  // exactly an hour ago: out of the window
  outbox.enqueue(mail("inside", kNow - 3599));
  outbox.enqueue(mail("new", kNow));
  EXPECT_EQ(outbox.count_capped_since(user.id, kNow - 3600), 2u);
  EXPECT_EQ(outbox.count_capped_since(random_uuid(), kNow - 3600), 0u);
}

TEST_F(OutboxStoreTest, PurgeRemovesOnlyOldFinishedRows) {
  outbox.enqueue(mail("a"));
  outbox.enqueue(mail("b"));
  MysqlTransactionRunner tx(app());
  tx.in_transaction([&] {
    auto p = outbox.claim_next_due(kNow);
    outbox.mark_sent(p->id, kNow);
  });
  EXPECT_EQ(outbox.purge_finished(kNow), 0);
  EXPECT_EQ(outbox.purge_finished(kNow + 1), 1);
  EXPECT_EQ(count_rows("mail_outbox"), 1) << "the pending one stays";
}

TEST_F(OutboxStoreTest, RequestsAreClaimedOnceInArrivalOrder) {
  requests.add(LinkPurpose::reset_password, "one@example.com", kNow, 1000);
  requests.add(LinkPurpose::verify_email, "two@example.com", kNow, 1000);
  auto other = new_app_connection();
  MysqlMailRequestStore other_requests(*other);
  MysqlTransactionRunner tx(app());
  tx.in_transaction([&] {
    auto first = requests.claim_next();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->email, "one@example.com");
    EXPECT_EQ(first->kind, LinkPurpose::reset_password);
    EXPECT_EQ(first->requested_at, kNow);
    MysqlTransactionRunner other_tx(*other);
    other_tx.in_transaction([&] {
      auto second = other_requests.claim_next();
      ASSERT_TRUE(second);
      EXPECT_EQ(second->email, "two@example.com");
      other_requests.remove(second->id);
    });
    requests.remove(first->id);
  });
  EXPECT_EQ(count_rows("mail_requests"), 0);
}

// Finding 13: the request queue was unbounded and took every repeat, so a
// resend/forgot flood delayed every real message behind it.
TEST_F(OutboxStoreTest, Finding13OnePendingRequestPerKindAndAddressAndACap) {
  EXPECT_TRUE(requests.add(LinkPurpose::reset_password, "ann@example.com", kNow, 1000));
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(requests.add(LinkPurpose::reset_password, "ann@example.com", kNow + i, 1000))
        << "a repeat is folded into the pending request";
  }
  EXPECT_TRUE(requests.add(LinkPurpose::verify_email, "ann@example.com", kNow, 1000))
      << "the other kind is its own request";
  EXPECT_EQ(count_rows("mail_requests"), 2);
  {
    MysqlTransactionRunner tx(app());
    tx.in_transaction([&] {
      auto first = requests.claim_next();
      ASSERT_TRUE(first);
      EXPECT_EQ(first->requested_at, kNow) << "a repeat does not move the pending one";
    });
  }
  // The cap: a flood of distinct addresses stops at it; what is pending stays.
  int queued = 2;
  for (int i = 0; i < 30; ++i) {
    queued += requests.add(LinkPurpose::reset_password,
                           "flood-" + std::to_string(i) + "@example.com", kNow, 10)
                  ? 1
                  : 0;
  }
  EXPECT_EQ(queued, 10);
  EXPECT_EQ(count_rows("mail_requests"), 10);
  EXPECT_FALSE(requests.add(LinkPurpose::reset_password, "bob@example.com", kNow, 10))
      << "a full queue takes nothing more";
  // Handled requests make room again.
  MysqlTransactionRunner tx(app());
  tx.in_transaction([&] { requests.remove(requests.claim_next()->id); });
  EXPECT_TRUE(requests.add(LinkPurpose::reset_password, "bob@example.com", kNow, 10));
}

}  // namespace
}  // namespace authd::store_test
