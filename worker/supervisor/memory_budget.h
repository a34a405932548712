#pragma once
// Memory bounded by design (DESIGN.md "Performance budgets"): the pool's
// peak is API_WORKERS × (Argon2id memory + a worker's own overhead), since
// every worker may be hashing at once. The master refuses to start a pool
// whose peak does not fit the budget: MEMORY_BUDGET_MIB when set, else the
// cgroup's memory limit when one is set (a container), else 80 % of RAM.
//
// The computation is pure; reading the machine's limits goes through a
// file reader so that it can be tested on made-up /proc and /sys contents.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace authd::supervisor {

// A worker's memory beside the Argon2id buffer, measured on an idle and a
// busy worker (private + its share of the shared pages, PSS): the
// libraries, the database connection and its statement cache, the request
// and response. Rounded up, with room to spare.
inline constexpr std::uint64_t kWorkerOverheadMib = 16;

// What the machine says. Values in bytes; nullopt when unknown or unset.
struct MemoryLimits {
  std::optional<std::uint64_t> cgroup_limit_bytes;  // memory.max / memory.limit_in_bytes
  std::string cgroup_limit_file;                    // where it was read (for the message)
  std::optional<std::uint64_t> ram_bytes;           // MemTotal
};

struct MemoryBudget {
  std::uint64_t need_mib = 0;    // workers × (argon2 + overhead)
  std::uint64_t budget_mib = 0;  // 0: nothing known to compare with
  std::string budget_source;  // "MEMORY_BUDGET_MIB=…", "the cgroup limit …", "80 % of RAM …"
};

// The peak and the budget it is compared with. `budget_setting_mib` is
// MEMORY_BUDGET_MIB (0: unset). `fast_workers` (API_FAST_WORKERS) never
// hash: each counts its overhead only.
MemoryBudget plan_memory(unsigned workers, std::uint64_t argon2_memory_kib,
                         std::uint64_t budget_setting_mib, const MemoryLimits& limits,
                         unsigned fast_workers = 0);

// One line saying what exceeds what and what to lower; nullopt when it fits.
std::optional<std::string> memory_budget_error(unsigned workers, std::uint64_t argon2_memory_kib,
                                               std::uint64_t budget_setting_mib,
                                               const MemoryLimits& limits,
                                               unsigned fast_workers = 0);

// Parsers of the kernel's files (exposed for tests).
// cgroup v2 memory.max: a number of bytes or "max" (no limit).
std::optional<std::uint64_t> parse_cgroup_v2_limit(std::string_view text);
// cgroup v1 memory.limit_in_bytes: a number; "no limit" is a huge one.
std::optional<std::uint64_t> parse_cgroup_v1_limit(std::string_view text);
// /proc/meminfo's MemTotal, in bytes.
std::optional<std::uint64_t> parse_mem_total(std::string_view meminfo);
// From /proc/self/cgroup: the v2 path ("0::/x"), and the v1 memory
// controller's path ("4:memory:/x"); empty when absent.
std::string cgroup_v2_path(std::string_view proc_self_cgroup);
std::string cgroup_v1_memory_path(std::string_view proc_self_cgroup);

// Reads a whole file; nullopt when it cannot.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;

// The limits of this process: the smallest limit set on its cgroup or any
// parent (v2 under /sys/fs/cgroup or /sys/fs/cgroup/unified, v1 under
// /sys/fs/cgroup/memory), and MemTotal.
MemoryLimits read_memory_limits(const FileReader& read);
MemoryLimits read_memory_limits();

}  // namespace authd::supervisor
