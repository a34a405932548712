#include "supervisor/memory_budget.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace authd::supervisor {
namespace {

constexpr std::uint64_t kKib = 1024;
constexpr std::uint64_t kMib = 1024 * 1024;
// cgroup v1 says "no limit" with PAGE_COUNTER_MAX × page size (about 2^63);
// anything this large is no limit on any machine that exists.
constexpr std::uint64_t kNoLimitAbove = std::uint64_t{1} << 60;
// libsodium's smallest Argon2id memory (crypto_pwhash_MEMLIMIT_MIN, 8 KiB).
constexpr std::uint64_t kArgon2MinKib = 8;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_number(std::string_view s) {
  s = trim(s);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
  return (a + b - 1) / b;
}

// The smallest limit on `path` or any of its parents under `root`.
std::optional<std::uint64_t> smallest_limit(
    const FileReader& read, const std::string& root, std::string path, const std::string& file,
    const std::function<std::optional<std::uint64_t>(std::string_view)>& parse,
    std::string* where) {
  std::optional<std::uint64_t> smallest;
  while (true) {
    const std::string candidate = root + (path == "/" ? "" : path) + "/" + file;
    if (auto text = read(candidate)) {
      if (auto limit = parse(*text); limit && (!smallest || *limit < *smallest)) {
        smallest = limit;
        *where = candidate;
      }
    }
    if (path.empty() || path == "/") break;
    auto slash = path.rfind('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
  return smallest;
}

}  // namespace

std::optional<std::uint64_t> parse_cgroup_v2_limit(std::string_view text) {
  if (trim(text) == "max") return std::nullopt;
  auto value = parse_number(text);
  if (!value || *value == 0 || *value >= kNoLimitAbove) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_cgroup_v1_limit(std::string_view text) {
  auto value = parse_number(text);
  if (!value || *value == 0 || *value >= kNoLimitAbove) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_mem_total(std::string_view meminfo) {
  for (std::string_view line : lines_of(meminfo)) {
    constexpr std::string_view key = "MemTotal:";
    if (line.substr(0, key.size()) != key) continue;
    std::string_view rest = trim(line.substr(key.size()));
    const bool in_kib = rest.size() > 3 && rest.substr(rest.size() - 3) == " kB";
    if (in_kib) rest.remove_suffix(3);
    auto value = parse_number(rest);
    if (!value || *value == 0) return std::nullopt;
    return in_kib ? *value * kKib : *value;
  }
  return std::nullopt;
}

std::string cgroup_v2_path(std::string_view proc_self_cgroup) {
  for (std::string_view line : lines_of(proc_self_cgroup)) {
    if (line.substr(0, 3) == "0::") return std::string(trim(line.substr(3)));
  }
  return {};
}

std::string cgroup_v1_memory_path(std::string_view proc_self_cgroup) {
  for (std::string_view line : lines_of(proc_self_cgroup)) {
    // "ID:controller,controller:path"
    auto first = line.find(':');
    if (first == std::string_view::npos) continue;
    auto second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    while (!controllers.empty()) {
      auto comma = controllers.find(',');
      if (controllers.substr(0, comma) == "memory") {
        return std::string(trim(line.substr(second + 1)));
      }
      if (comma == std::string_view::npos) break;
      controllers.remove_prefix(comma + 1);
    }
  }
  return {};
}

MemoryLimits read_memory_limits(const FileReader& read) {
  MemoryLimits limits;
  if (auto meminfo = read("/proc/meminfo")) limits.ram_bytes = parse_mem_total(*meminfo);
  const std::string self = read("/proc/self/cgroup").value_or("");

  std::optional<std::uint64_t> smallest;
  std::string where;
  auto consider = [&](std::optional<std::uint64_t> limit, const std::string& file) {
    if (limit && (!smallest || *limit < *smallest)) {
      smallest = limit;
      where = file;
    }
  };
  // cgroup v2, mounted alone (/sys/fs/cgroup) or beside v1 (unified).
  // Inside a container with its own cgroup namespace the path is "/" and
  // the root's file is the container's limit.
  if (std::string path = cgroup_v2_path(self); !path.empty()) {
    for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
      std::string file;
      auto limit = smallest_limit(read, root, path, "memory.max", parse_cgroup_v2_limit, &file);
      consider(limit, file);
    }
  }
  if (std::string path = cgroup_v1_memory_path(self); !path.empty()) {
    std::string file;
    auto limit = smallest_limit(read, "/sys/fs/cgroup/memory", path, "memory.limit_in_bytes",
                                parse_cgroup_v1_limit, &file);
    consider(limit, file);
  }
  limits.cgroup_limit_bytes = smallest;
  limits.cgroup_limit_file = where;
  return limits;
}

MemoryLimits read_memory_limits() {
  return read_memory_limits([](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  });
}

MemoryBudget plan_memory(unsigned workers, std::uint64_t argon2_memory_kib,
                         std::uint64_t budget_setting_mib, const MemoryLimits& limits,
                         unsigned fast_workers) {
  MemoryBudget plan;
  plan.need_mib = ceil_div(workers * (argon2_memory_kib + kWorkerOverheadMib * kKib) +
                               std::uint64_t{fast_workers} * kWorkerOverheadMib * kKib,
                           kKib);
  if (budget_setting_mib != 0) {
    plan.budget_mib = budget_setting_mib;
    plan.budget_source = "MEMORY_BUDGET_MIB=" + std::to_string(budget_setting_mib);
  } else if (limits.cgroup_limit_bytes) {
    plan.budget_mib = *limits.cgroup_limit_bytes / kMib;
    plan.budget_source = "the cgroup memory limit of " + std::to_string(plan.budget_mib) +
                         " MiB (" + limits.cgroup_limit_file + ")";
  } else if (limits.ram_bytes) {
    plan.budget_mib = *limits.ram_bytes / kMib * 8 / 10;
    plan.budget_source = "80 % of RAM (" + std::to_string(plan.budget_mib) + " of " +
                         std::to_string(*limits.ram_bytes / kMib) + " MiB)";
  }
  return plan;
}

std::optional<std::string> memory_budget_error(unsigned workers, std::uint64_t argon2_memory_kib,
                                               std::uint64_t budget_setting_mib,
                                               const MemoryLimits& limits, unsigned fast_workers) {
  const MemoryBudget plan =
      plan_memory(workers, argon2_memory_kib, budget_setting_mib, limits, fast_workers);
  if (plan.budget_mib == 0 || plan.need_mib <= plan.budget_mib) return std::nullopt;

  // What the hashing workers may use: the budget less the fast lane's share.
  const std::uint64_t fast_kib = std::uint64_t{fast_workers} * kWorkerOverheadMib * kKib;
  const std::uint64_t whole_kib = plan.budget_mib * kKib;
  const std::uint64_t budget_kib = whole_kib > fast_kib ? whole_kib - fast_kib : 0;
  const std::uint64_t per_worker_kib = argon2_memory_kib + kWorkerOverheadMib * kKib;
  const std::uint64_t workers_that_fit = budget_kib / per_worker_kib;
  // The Argon2id memory that lets this many workers fit, rounded down to
  // whole MiB (a round number to type).
  const std::uint64_t share_kib = budget_kib / workers;
  const std::uint64_t overhead_kib = kWorkerOverheadMib * kKib;
  std::uint64_t argon2_that_fits_kib =
      share_kib > overhead_kib ? (share_kib - overhead_kib) / kKib * kKib : 0;

  std::string fix;
  if (workers_that_fit >= 1) fix = "lower API_WORKERS to " + std::to_string(workers_that_fit);
  if (argon2_that_fits_kib >= std::max(kArgon2MinKib, kKib)) {
    if (!fix.empty()) fix += " or ";
    fix += "lower ARGON2_MEMORY_KIB to " + std::to_string(argon2_that_fits_kib);
  }
  if (!fix.empty()) fix += ", or ";
  fix += "raise MEMORY_BUDGET_MIB";

  const std::string fast = fast_workers == 0
                               ? std::string()
                               : " + API_FAST_WORKERS=" + std::to_string(fast_workers) + " x " +
                                     std::to_string(kWorkerOverheadMib) + " MiB";
  return "memory budget: API_WORKERS=" + std::to_string(workers) +
         " x (ARGON2_MEMORY_KIB=" + std::to_string(argon2_memory_kib) + " + " +
         std::to_string(kWorkerOverheadMib) + " MiB per worker)" + fast + " needs " +
         std::to_string(plan.need_mib) + " MiB at peak, over " + plan.budget_source + ": " + fix;
}

}  // namespace authd::supervisor
