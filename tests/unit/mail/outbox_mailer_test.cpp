// The delivery loop over an in-memory outbox: what is marked when, the
// backoff, and that a crash between sending and marking leaves the message
// pending (at least once) rather than lost.
#include "mail/outbox_mailer.h"

#include <gtest/gtest.h>

#include "fakes/fakes.h"
#include "fakes/mail_fakes.h"
#include "ports/store_errors.h"

namespace authd::mail {
namespace {

using testing::InMemoryOutbox;
using testing::ManualClock;
using testing::RecordingTransport;
using Status = SendResult::Status;

// All-or-nothing over the outbox alone.
class OutboxTransactions final : public TransactionRunner {
 public:
  explicit OutboxTransactions(InMemoryOutbox& outbox) : outbox_(outbox) {}
  void in_transaction(const std::function<void()>& body) override {
    auto restore = outbox_.snapshot()();
    open = true;
    try {
      body();
    } catch (...) {
      open = false;
      restore();
      throw;
    }
    open = false;
  }
  bool open = false;  // a transaction is running

 private:
  InMemoryOutbox& outbox_;
};

// An outbox whose mark_sent fails: the process "dies" after the relay
// accepted the message and before the database heard of it.
class OutboxThatLosesTheDatabase final : public OutboxDelivery {
 public:
  explicit OutboxThatLosesTheDatabase(InMemoryOutbox& real) : real_(real) {}
  std::optional<Pending> claim_next_due(UnixSeconds now) override {
    return real_.claim_next_due(now);
  }
  void lease(std::int64_t id, UnixSeconds until) override { real_.lease(id, until); }
  void mark_sent(std::int64_t, UnixSeconds) override {
    throw StoreUnavailable("test: connection lost");
  }
  void mark_retry(std::int64_t id, UnixSeconds at, std::string_view e) override {
    real_.mark_retry(id, at, e);
  }
  void mark_abandoned(std::int64_t id, UnixSeconds now) override { real_.mark_abandoned(id, now); }
  int purge_finished(UnixSeconds before) override { return real_.purge_finished(before); }

 private:
  InMemoryOutbox& real_;
};

class OutboxMailerTest : public ::testing::Test {
 protected:
  ManualClock clock;
  InMemoryOutbox outbox;
  OutboxTransactions transactions{outbox};
  RecordingTransport transport;
  OutboxMailer mailer{outbox, transactions, transport, clock, "noreply@auth.example.com"};

  void queue(const std::string& to, UnixSeconds lifetime = 86400,
             std::optional<Uuid> user_id = Uuid::parse("0190a3b2-0000-7000-8000-000000000001")) {
    OutgoingMail m;
    m.user_id = user_id;
    m.recipient = to;
    m.message = "Subject: hi\r\n\r\nlink #token=secret-of-" + to + "\r\n";
    m.created_at = clock.now();
    m.expires_at = clock.now() + lifetime;
    outbox.enqueue(m);
  }
  DeliveryReport deliver(unsigned limit = 50) {
    return mailer.deliver_due(limit, [] { return true; });
  }
};

TEST_F(OutboxMailerTest, SendsEveryDueMessageOnceAndErasesIt) {
  queue("a@example.com");
  queue("b@example.com");
  const DeliveryReport report = deliver();
  EXPECT_EQ(report.sent, 2);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[0].from, "noreply@auth.example.com");
  EXPECT_EQ(transport.sent[0].to, "a@example.com");
  EXPECT_NE(transport.sent[0].message.find("#token=secret-of-a@example.com"), std::string::npos);
  for (const auto& [id, row] : outbox.rows) {
    EXPECT_EQ(row.state, 1);
    EXPECT_TRUE(row.mail.message.empty()) << "the token must not outlive delivery";
  }
  EXPECT_EQ(deliver().sent, 0);
  EXPECT_EQ(transport.attempts, 2);
}

TEST_F(OutboxMailerTest, StopsAtTheLimitAndWhenToldTo) {
  for (int i = 0; i < 5; ++i)
    queue("x" + std::to_string(i) + "@example.com");
  EXPECT_EQ(deliver(2).sent, 2);
  int asked = 0;
  const auto report = mailer.deliver_due(50, [&] { return ++asked <= 1; });
  EXPECT_EQ(report.sent, 1);
  EXPECT_EQ(outbox.pending().size(), 2u);
}

TEST_F(OutboxMailerTest, AnAbsentRelayIsBackedOffThenUsedAgain) {
  queue("a@example.com");
  queue("b@example.com");
  transport.script = {{Status::unavailable, "Couldn't connect to server"}};
  DeliveryReport report = deliver();
  EXPECT_TRUE(report.transport_unavailable);
  EXPECT_EQ(report.failed, 1);
  EXPECT_EQ(report.sent, 0) << "the batch stops: the relay is away";
  EXPECT_EQ(transport.closes, 1);
  ASSERT_EQ(outbox.rows.at(1).attempts, 1u);
  EXPECT_EQ(outbox.rows.at(1).next_attempt_at, clock.now() + 1);
  EXPECT_EQ(outbox.rows.at(1).last_error, "Couldn't connect to server");

  // Nothing is tried before the backoff has passed.
  report = deliver();
  EXPECT_TRUE(report.transport_unavailable);
  EXPECT_EQ(transport.attempts, 1);

  clock.advance(1);
  transport.script = {{Status::unavailable, "again"}};
  deliver();
  EXPECT_EQ(transport.attempts, 2);
  EXPECT_EQ(mailer.ready_at_ms(), clock.now_ms() + 2000) << "1 s, then 2 s, ...";

  clock.advance(2);
  report = deliver();
  EXPECT_EQ(report.sent, 2);
  EXPECT_EQ(mailer.ready_at_ms(), 0);
  EXPECT_TRUE(outbox.pending().empty());
}

TEST_F(OutboxMailerTest, BackoffIsCappedAtSixtySeconds) {
  queue("a@example.com");
  for (int i = 0; i < 12; ++i) {
    transport.script = {{Status::unavailable, "down"}};
    deliver();
    clock.advance(60);
  }
  EXPECT_EQ(outbox.rows.at(1).attempts, 12u);
  EXPECT_LE(outbox.rows.at(1).next_attempt_at - clock.now(), 0);
  EXPECT_LE(mailer.ready_at_ms() - clock.now_ms(), 0);
  EXPECT_EQ(deliver().sent, 1);
}

TEST_F(OutboxMailerTest, ARefusedMessageDoesNotHoldUpTheOthers) {
  queue("bad@example.com");
  queue("good@example.com");
  transport.script = {{Status::refused, "Failed sending data to the peer (SMTP 550)"}};
  const DeliveryReport report = deliver();
  EXPECT_FALSE(report.transport_unavailable);
  EXPECT_EQ(report.failed, 1);
  EXPECT_EQ(report.sent, 1);
  EXPECT_EQ(outbox.rows.at(1).state, 0) << "retried later, until its link expires";
  EXPECT_EQ(outbox.rows.at(1).attempts, 1u);
}

TEST_F(OutboxMailerTest, AMessageWhoseLinkExpiredIsAbandonedUnsent) {
  queue("late@example.com", /*lifetime=*/10);
  transport.script = {{Status::unavailable, "down"}};
  deliver();
  clock.advance(11);
  const DeliveryReport report = deliver();
  EXPECT_EQ(report.abandoned, 1);
  EXPECT_EQ(outbox.rows.at(1).state, 2);
  EXPECT_TRUE(outbox.rows.at(1).mail.message.empty());
  EXPECT_TRUE(transport.sent.empty());
}

TEST_F(OutboxMailerTest, AMessageThatNamesNoAccountIsDeletedOnceSentOrAbandoned) {
  // A closed account's notice: nothing of the account may stay behind.
  queue("gone@example.com", 86400, std::nullopt);
  queue("late-gone@example.com", /*lifetime=*/10, std::nullopt);
  transport.script = {{}, {Status::unavailable, "down"}};
  deliver();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0].to, "gone@example.com");
  EXPECT_EQ(outbox.rows.count(1), 0u) << "sent: deleted";
  ASSERT_EQ(outbox.rows.count(2), 1u) << "still to try";
  clock.advance(11);
  EXPECT_EQ(deliver().abandoned, 1);
  EXPECT_TRUE(outbox.rows.empty()) << "abandoned: deleted";
}

TEST_F(OutboxMailerTest, ACrashBetweenSendingAndMarkingLeavesItPending) {
  queue("a@example.com");
  OutboxThatLosesTheDatabase flaky(outbox);
  OutboxMailer crashing(flaky, transactions, transport, clock, "noreply@auth.example.com");
  EXPECT_THROW(crashing.deliver_due(50, [] { return true; }), StoreUnavailable);
  EXPECT_EQ(transport.sent.size(), 1u);
  ASSERT_EQ(outbox.pending().size(), 1u) << "still pending, not lost";
  EXPECT_FALSE(outbox.pending()[0]->mail.message.empty());
  // Leased: no other mailer sends it while the first may still be at it.
  EXPECT_EQ(deliver().sent, 0);
  // When the lease runs out the next mailer sends it again: at least once.
  clock.advance(kSendLeaseS);
  EXPECT_EQ(deliver().sent, 1);
  EXPECT_EQ(transport.sent.size(), 2u);
  EXPECT_TRUE(outbox.pending().empty());
}

// Two mailers on two cluster nodes may both pick a row (SKIP LOCKED is
// node-local); only the claim that commits may lead to a send. So nothing
// is sent while the claiming transaction is still open, and the lease is
// in the claim.
TEST_F(OutboxMailerTest, SendsOnlyAfterTheClaimCommitted) {
  queue("a@example.com");
  queue("b@example.com");
  bool sent_inside_a_transaction = false;
  transport.on_send = [&] { sent_inside_a_transaction |= transactions.open; };
  int leased_inside = 0;
  outbox.on_lease = [&](std::int64_t) { leased_inside += transactions.open ? 1 : 0; };
  EXPECT_EQ(deliver().sent, 2);
  EXPECT_FALSE(sent_inside_a_transaction);
  EXPECT_EQ(leased_inside, 2);
}

// A claim that loses at COMMIT (the other node's mailer leased the row
// first) is run again and finds nothing due: that mailer sends nothing.
TEST_F(OutboxMailerTest, AClaimThatLostToAnotherMailerSendsNothing) {
  queue("a@example.com");
  // The runner's retry, as on a cluster: the first run's claim is rolled
  // back because another node's mailer leased the row and committed first.
  class LosingOnce final : public TransactionRunner {
   public:
    LosingOnce(InMemoryOutbox& outbox, ManualClock& clock) : outbox_(outbox), clock_(clock) {}
    void in_transaction(const std::function<void()>& body) override {
      auto restore = outbox_.snapshot()();
      body();
      if (!lost_) {
        lost_ = true;
        restore();
        outbox_.lease(1, clock_.now() + kSendLeaseS);  // the winner's commit
        body();                                        // the retry
      }
    }

   private:
    InMemoryOutbox& outbox_;
    ManualClock& clock_;
    bool lost_ = false;
  } runner(outbox, clock);
  OutboxMailer loser(outbox, runner, transport, clock, "noreply@auth.example.com");
  EXPECT_EQ(loser.deliver_due(50, [] { return true; }).sent, 0);
  EXPECT_TRUE(transport.sent.empty());
}

}  // namespace
}  // namespace authd::mail
