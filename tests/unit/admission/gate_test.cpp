// Admission by waiting time: the budget in force (long while the queue
// empties regularly, short once it stands), the wait measured against
// nginx's stamp, and the clocks' offset when nginx's clock is not ours.
#include "admission/gate.h"

#include <gtest/gtest.h>

namespace authd::admission {
namespace {

constexpr std::int64_t kT0 = 1'765'000'000'000;  // some moment, ms since the epoch

class GateTest : public ::testing::Test {
 protected:
  void SetUp() override { Gate::start(state_, kT0); }

  LaneState state_{};
  Settings settings_{/*budget_ms=*/3000, /*standing_budget_ms=*/30, /*max_clock_skew_ms=*/30000};
  Gate gate_{state_, settings_};
};

TEST_F(GateTest, AnUnstampedRequestIsAdmittedUntimed) {
  const Verdict v = gate_.judge(kT0 + 10, std::nullopt);
  EXPECT_TRUE(v.admit);
  EXPECT_FALSE(v.timed);
}

TEST_F(GateTest, WhileTheQueueEmptiesABurstGetsTheLongBudget) {
  gate_.queue_empty(kT0 + 1000);
  // The first of the burst waited nothing; the last nearly the whole budget.
  EXPECT_TRUE(gate_.judge(kT0 + 1000, kT0 + 1000).admit);
  const Verdict last = gate_.judge(kT0 + 3900, kT0 + 1000);
  EXPECT_TRUE(last.timed);
  EXPECT_FALSE(last.standing);
  EXPECT_EQ(last.wait_ms, 2900);
  EXPECT_EQ(last.budget_ms, 3000);
  EXPECT_TRUE(last.admit);
}

TEST_F(GateTest, ARequestThatWaitedLongerThanTheLongBudgetIsRefused) {
  gate_.queue_empty(kT0 + 1000);
  EXPECT_TRUE(gate_.judge(kT0 + 1000, kT0 + 1000).admit);  // the offset: zero
  const Verdict v = gate_.judge(kT0 + 4001, kT0 + 1000);
  EXPECT_EQ(v.wait_ms, 3001);
  EXPECT_FALSE(v.admit);
}

TEST_F(GateTest, AQueueThatStoodNonEmptyForTheIntervalGetsTheShortBudget) {
  gate_.queue_empty(kT0);
  EXPECT_TRUE(gate_.judge(kT0, kT0).admit);  // the offset: zero
  const std::int64_t now = kT0 + 3001;       // no worker found the queue empty since kT0
  EXPECT_EQ(gate_.budget_now(now), 30);
  const Verdict waited_31 = gate_.judge(now, now - 31);
  EXPECT_TRUE(waited_31.standing);
  EXPECT_EQ(waited_31.budget_ms, 30);
  EXPECT_FALSE(waited_31.admit);
  // A refusal has always waited more than the short budget: what waited up to
  // it is served, so clients retrying at once are paced by the queue.
  EXPECT_TRUE(gate_.judge(now, now - 30).admit);
  EXPECT_TRUE(gate_.judge(now, now - 2).admit);
}

TEST_F(GateTest, WhileTheQueueEmptiesRegularlyEachEmptinessKeepsTheLongBudget) {
  gate_.queue_empty(kT0 + 2000);
  gate_.queue_empty(kT0 + 4500);
  EXPECT_EQ(gate_.budget_now(kT0 + 7000), 3000);
  EXPECT_EQ(gate_.budget_now(kT0 + 7501), 30) << "non-empty for the interval since";
}

TEST_F(GateTest, AStandingQueueIsNotDrainedByAMomentsEmptiness) {
  const std::int64_t now = kT0 + 5000;  // standing since kT0 + 3000
  ASSERT_EQ(gate_.budget_now(now), 30);
  // Shedding emptied it for an instant; clients retrying at once refill it,
  // or a pause of a few hundred milliseconds while answers are handled.
  gate_.queue_empty(now);
  gate_.queue_idle(now, now + 2);
  gate_.queue_idle(now, now + 999);
  EXPECT_EQ(gate_.budget_now(now + 999), 30);
  // A worker idle for a third of the interval: the overload is over.
  EXPECT_EQ(gate_.settle_ms(), 1000);
  gate_.queue_idle(now, now + 1000);
  EXPECT_EQ(gate_.budget_now(now + 1000), 3000);
}

TEST_F(GateTest, AnIdleSpellBeforeTheQueueStandsKeepsTheLongBudget) {
  gate_.queue_idle(kT0 + 2000, kT0 + 2001);
  EXPECT_EQ(gate_.budget_now(kT0 + 4000), 3000);
}

TEST_F(GateTest, TheEmptyMarkNeverMovesBack) {
  gate_.queue_empty(kT0 + 2000);
  gate_.queue_empty(kT0 + 1000);  // a worker whose clock read is older
  EXPECT_EQ(state_.queue_empty_at_ms.load(), kT0 + 2000);
}

TEST_F(GateTest, NginxsClockBehindOursIsTakenAsTheOffset) {
  // nginx's clock is 5 s behind: an idle pool's request "waited" 5000 ms.
  const Verdict first = gate_.judge(kT0 + 100, kT0 + 100 - 5000);
  EXPECT_TRUE(first.admit);
  EXPECT_EQ(first.wait_ms, 0);
  EXPECT_EQ(gate_.clock_offset_ms(kT0 + 100), 5000);
  const Verdict later = gate_.judge(kT0 + 200, kT0 + 200 - 5000 - 40);
  EXPECT_EQ(later.wait_ms, 40);
}

TEST_F(GateTest, NginxsClockAheadOfOursIsTakenAsTheOffset) {
  EXPECT_EQ(gate_.judge(kT0 + 100, kT0 + 100 + 7000).wait_ms, 0);
  const Verdict later = gate_.judge(kT0 + 3300, kT0 + 200 + 7000);
  EXPECT_EQ(later.wait_ms, 3100);
  EXPECT_FALSE(later.admit);
}

TEST_F(GateTest, AStampBeyondTheSkewBoundIsNotBelievedNorRemembered) {
  EXPECT_TRUE(gate_.judge(kT0, kT0).admit);
  const Verdict forged = gate_.judge(kT0 + 10, kT0 + 10 + 31'000);  // from the future
  EXPECT_TRUE(forged.admit);
  EXPECT_FALSE(forged.timed);
  EXPECT_EQ(gate_.clock_offset_ms(kT0 + 10), 0) << "the offset is untouched";
  EXPECT_FALSE(gate_.judge(kT0 + 3500, kT0 + 10).admit) << "others are still judged";
}

TEST_F(GateTest, TheOffsetForgetsWhatIsOlderThanTwoWindows) {
  const std::int64_t w = Gate::kOffsetWindowMs;
  const std::int64_t start = (kT0 / w) * w;  // the start of a window
  gate_.judge(start + 10, start + 10);       // offset 0
  // The clocks drift apart by 2 s; the old minimum lasts this window and
  // the next, then only the new one is left.
  gate_.judge(start + w + 10, start + w + 10 - 2000);
  EXPECT_EQ(gate_.clock_offset_ms(start + w + 20), 0);
  gate_.judge(start + 2 * w + 10, start + 2 * w + 10 - 2000);
  EXPECT_EQ(gate_.clock_offset_ms(start + 2 * w + 20), 2000);
}

TEST_F(GateTest, TheLanesNameThemselves) {
  EXPECT_EQ(lane_name(Lane::hashing), "hashing");
  EXPECT_EQ(lane_name(Lane::fast), "fast");
}

}  // namespace
}  // namespace authd::admission
