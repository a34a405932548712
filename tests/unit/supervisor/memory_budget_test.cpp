#include "supervisor/memory_budget.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace authd::supervisor {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kDefaultArgon2Kib = 19456;  // 19 MiB

MemoryLimits ram_only(std::uint64_t mib) {
  MemoryLimits l;
  l.ram_bytes = mib * kMiB;
  return l;
}

TEST(MemoryBudget, PeakIsWorkersTimesArgon2PlusOverhead) {
  const auto plan = plan_memory(4, kDefaultArgon2Kib, 0, ram_only(1000));
  EXPECT_EQ(plan.need_mib, 4 * (19 + kWorkerOverheadMib));
  EXPECT_EQ(plan.budget_mib, 800u);  // 80 % of RAM
  EXPECT_THAT(plan.budget_source, StartsWith("80 % of RAM"));
}

TEST(MemoryBudget, PeakRoundsPartialMebibytesUp) {
  EXPECT_EQ(plan_memory(1, 1, 0, {}).need_mib, kWorkerOverheadMib + 1);
  EXPECT_EQ(plan_memory(3, 512, 0, {}).need_mib, 3 * kWorkerOverheadMib + 2);  // 1.5 MiB → 2
}

TEST(MemoryBudget, TheSettingWinsOverTheCgroupWhichWinsOverRam) {
  MemoryLimits limits = ram_only(64 * 1024);
  limits.cgroup_limit_bytes = 512 * kMiB;
  limits.cgroup_limit_file = "/sys/fs/cgroup/memory.max";
  auto from_cgroup = plan_memory(2, kDefaultArgon2Kib, 0, limits);
  EXPECT_EQ(from_cgroup.budget_mib, 512u);
  EXPECT_THAT(from_cgroup.budget_source, HasSubstr("/sys/fs/cgroup/memory.max"));
  auto from_setting = plan_memory(2, kDefaultArgon2Kib, 100, limits);
  EXPECT_EQ(from_setting.budget_mib, 100u);
  EXPECT_EQ(from_setting.budget_source, "MEMORY_BUDGET_MIB=100");
}

TEST(MemoryBudget, FitsExactlyAtTheBudget) {
  const std::uint64_t need = 2 * (19 + kWorkerOverheadMib);
  EXPECT_FALSE(memory_budget_error(2, kDefaultArgon2Kib, need, {}));
  EXPECT_TRUE(memory_budget_error(2, kDefaultArgon2Kib, need - 1, {}));
}

TEST(MemoryBudget, TheMessageSaysWhatToLower) {
  // 8 × (64 + 16) = 640 MiB against 400: 5 workers fit, or 34 MiB each.
  auto error = memory_budget_error(8, 64 * 1024, 400, {});
  ASSERT_TRUE(error);
  EXPECT_THAT(*error, HasSubstr("needs 640 MiB"));
  EXPECT_THAT(*error, HasSubstr("MEMORY_BUDGET_MIB=400"));
  EXPECT_THAT(*error, HasSubstr("lower API_WORKERS to 5"));
  EXPECT_THAT(*error, HasSubstr("lower ARGON2_MEMORY_KIB to 34816"));
  EXPECT_THAT(*error, HasSubstr("raise MEMORY_BUDGET_MIB"));
  EXPECT_EQ(error->find('\n'), std::string::npos) << "one line";
}

TEST(MemoryBudget, WhenNotOneWorkerFitsOnlyTheHashCanShrink) {
  auto error = memory_budget_error(2, 256 * 1024, 100, {});
  ASSERT_TRUE(error);
  EXPECT_THAT(*error, ::testing::Not(HasSubstr("API_WORKERS to")));
  EXPECT_THAT(*error, HasSubstr("lower ARGON2_MEMORY_KIB to 34816"));  // 50 - 16 MiB
}

TEST(MemoryBudget, WhenShrinkingTheHashCannotHelpOnlyWorkersOrBudget) {
  // 4 × 35 MiB against 40: one worker fits; a 10 MiB share is below the overhead.
  auto error = memory_budget_error(4, kDefaultArgon2Kib, 40, {});
  ASSERT_TRUE(error);
  EXPECT_THAT(*error, HasSubstr(": lower API_WORKERS to 1, or raise MEMORY_BUDGET_MIB"));
  // Not even one worker's overhead fits: only the budget can grow.
  auto worse = memory_budget_error(4, kDefaultArgon2Kib, 10, {});
  ASSERT_TRUE(worse);
  EXPECT_THAT(*worse, HasSubstr(": raise MEMORY_BUDGET_MIB"));
}

TEST(MemoryBudget, NothingKnownNothingRefused) {
  EXPECT_FALSE(memory_budget_error(256, 4194304, 0, {}));
}

TEST(MemoryBudget, CgroupFiles) {
  EXPECT_EQ(parse_cgroup_v2_limit("max\n"), std::nullopt);
  EXPECT_EQ(parse_cgroup_v2_limit("536870912\n"), 536870912u);
  EXPECT_EQ(parse_cgroup_v2_limit("junk"), std::nullopt);
  EXPECT_EQ(parse_cgroup_v1_limit("9223372036854771712\n"), std::nullopt);  // unlimited
  EXPECT_EQ(parse_cgroup_v1_limit("1073741824\n"), 1073741824u);
  EXPECT_EQ(parse_mem_total("MemTotal:       24684100 kB\nMemFree: 1 kB\n"), 24684100ull * 1024);
  EXPECT_EQ(parse_mem_total("MemFree: 1 kB\n"), std::nullopt);
}

TEST(MemoryBudget, ProcSelfCgroup) {
  const std::string hybrid =
      "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/user.slice\n";
  EXPECT_EQ(cgroup_v2_path(hybrid), "/user.slice");
  EXPECT_EQ(cgroup_v1_memory_path(hybrid), "/process_api/abc");
  EXPECT_EQ(cgroup_v1_memory_path("5:cpuacct,memory:/docker/x\n"), "/docker/x");
  EXPECT_EQ(cgroup_v1_memory_path("0::/\n"), "");
  EXPECT_EQ(cgroup_v2_path("4:memory:/a\n"), "");
}

std::optional<std::uint64_t> cgroup_limit(const std::map<std::string, std::string>& files) {
  return read_memory_limits([&](const std::string& path) -> std::optional<std::string> {
           auto it = files.find(path);
           if (it == files.end()) return std::nullopt;
           return it->second;
         })
      .cgroup_limit_bytes;
}

TEST(MemoryBudget, ReadsTheSmallestLimitOnTheWayUp) {
  // A container (cgroup namespace): its own limit at the root.
  EXPECT_EQ(cgroup_limit({{"/proc/self/cgroup", "0::/\n"}, {"/sys/fs/cgroup/memory.max", "1G"}}),
            std::nullopt);  // not a number: ignored
  EXPECT_EQ(cgroup_limit(
                {{"/proc/self/cgroup", "0::/\n"}, {"/sys/fs/cgroup/memory.max", "1073741824\n"}}),
            1073741824u);
  // A service whose parent slice is limited, itself not.
  EXPECT_EQ(cgroup_limit({{"/proc/self/cgroup", "0::/system.slice/authd.service\n"},
                          {"/sys/fs/cgroup/system.slice/authd.service/memory.max", "max\n"},
                          {"/sys/fs/cgroup/system.slice/memory.max", "2147483648\n"},
                          {"/sys/fs/cgroup/memory.max", "max\n"}}),
            2147483648u);
  // cgroup v1, the memory controller's hierarchy.
  EXPECT_EQ(cgroup_limit({{"/proc/self/cgroup", "4:memory:/docker/abc\n0::/\n"},
                          {"/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "536870912"},
                          {"/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712"}}),
            536870912u);
  // Nothing set anywhere.
  EXPECT_EQ(cgroup_limit({{"/proc/self/cgroup", "4:memory:/x\n0::/\n"}}), std::nullopt);
}

TEST(MemoryBudget, ReadsRamFromMeminfo) {
  auto limits = read_memory_limits([](const std::string& path) -> std::optional<std::string> {
    if (path == "/proc/meminfo") return "MemTotal: 1048576 kB\n";
    return std::nullopt;
  });
  EXPECT_EQ(limits.ram_bytes, 1024u * kMiB);
  EXPECT_EQ(plan_memory(1, kDefaultArgon2Kib, 0, limits).budget_mib, 819u);
}

}  // namespace
}  // namespace authd::supervisor
