// The shared block's arithmetic (buckets, status cells, worker slots) and
// that it is really shared across fork().
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

#include "metrics/block.h"
#include "metrics/shared_block.h"

namespace authd::metrics {
namespace {

TEST(MetricsBlock, BucketBoundsAreInclusiveAndTheLastCellIsInfinity) {
  EXPECT_EQ(bucket_index(kLatencyBoundsNs, 0), 0u);
  EXPECT_EQ(bucket_index(kLatencyBoundsNs, 1'000'000), 0u) << "le is inclusive";
  EXPECT_EQ(bucket_index(kLatencyBoundsNs, 1'000'001), 1u);
  EXPECT_EQ(bucket_index(kLatencyBoundsNs, 10'000'000'000), kLatencyBoundsNs.size() - 1);
  EXPECT_EQ(bucket_index(kLatencyBoundsNs, 10'000'000'001), kLatencyBoundsNs.size());
  EXPECT_EQ(bucket_index(kHashBoundsNs, 25'000'000), 4u);  // 20 ms < 25 ms <= 30 ms
}

TEST(MetricsBlock, BoundsAscend) {
  for (std::size_t i = 1; i < kLatencyBoundsNs.size(); ++i)
    EXPECT_LT(kLatencyBoundsNs[i - 1], kLatencyBoundsNs[i]);
  for (std::size_t i = 1; i < kHashBoundsNs.size(); ++i)
    EXPECT_LT(kHashBoundsNs[i - 1], kHashBoundsNs[i]);
}

TEST(MetricsBlock, EveryContractStatusHasItsOwnCell) {
  for (int status :
       {200, 201, 202, 204, 301, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503}) {
    const auto slot = status_slot(status);
    ASSERT_LT(slot, kStatuses.size()) << status;
    EXPECT_EQ(kStatuses[slot], status);
  }
  EXPECT_EQ(status_slot(418), kStatuses.size());
  EXPECT_EQ(status_slot(0), kStatuses.size());
}

TEST(MetricsBlock, WorkerSlotsAreClaimedOnceAndReleasedByPid) {
  auto block = std::make_unique<Block>();
  WorkerSlot* a = claim_worker_slot(*block, 100);
  WorkerSlot* b = claim_worker_slot(*block, 200);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  a->busy = 1;
  release_worker_slot(*block, 100);
  EXPECT_EQ(a->pid.load(), 0);
  EXPECT_EQ(a->busy.load(), 0u) << "a worker killed mid-request is not busy any more";
  EXPECT_EQ(b->pid.load(), 200);
  EXPECT_EQ(claim_worker_slot(*block, 300), a) << "a freed slot is reused";
}

TEST(MetricsBlock, AFullTableGivesNoSlot) {
  auto block = std::make_unique<Block>();
  for (std::size_t i = 0; i < kMaxWorkerSlots; ++i)
    ASSERT_NE(claim_worker_slot(*block, static_cast<pid_t>(i + 1)), nullptr);
  EXPECT_EQ(claim_worker_slot(*block, 99999), nullptr);
}

TEST(SharedBlock, ChildrenCountIntoTheParentsCells) {
  SharedBlock shared;
  constexpr int kChildren = 3;
  constexpr int kAdds = 20000;
  pid_t pids[kChildren];
  for (int c = 0; c < kChildren; ++c) {
    pids[c] = fork();
    ASSERT_GE(pids[c], 0);
    if (pids[c] == 0) {
      for (int i = 0; i < kAdds; ++i)
        shared.block().requests[1][0].fetch_add(1, std::memory_order_relaxed);
      _exit(0);
    }
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(shared.block().requests[1][0].load(), std::uint64_t{kChildren * kAdds})
      << "no increment lost across processes";
}

TEST(SharedBlock, StartsAtZero) {
  SharedBlock shared;
  EXPECT_EQ(shared.block().logins[0].load(), 0u);
  EXPECT_EQ(shared.block().workers[0].pid.load(), 0);
}

}  // namespace
}  // namespace authd::metrics
