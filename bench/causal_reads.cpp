// What a causal read costs on the token-check path: the session lookup a
// token check makes (one prepared primary-key SELECT of a sessions row), run
// by N processes in a closed loop through authd's own Connection, once as a
// plain read and once as a causal one (Connection::causal_query: on a Galera
// node, wsrep_sync_wait=1 for the statement). Prints reads per second and
// the latency percentiles of each.
//
//   causal_reads [--processes N] [--seconds S]
//
// Reads MYSQL_HOST (a node or a list), MYSQL_PORT, MYSQL_USER,
// MYSQL_PASSWORD, MYSQL_DB as the server does. Without wsrep both runs are
// plain reads (and the figures equal).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "adapters/mysql/connection.h"

namespace {

using authd::DbSettings;
using authd::mysql::Account;
using authd::mysql::Connection;

constexpr std::string_view kFindSession =
    "SELECT id, user_id, created_at, last_used_at, expires_at, auth_time, revoked_at, amr,"
    " user_agent, ip, refresh_hash, prev_refresh_hash, next_refresh_sealed, rotated_at"
    " FROM sessions WHERE id = ?";

std::string env(const char* name, const char* fallback = "") {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

struct Run {
  double reads_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  bool causal = false;
};

// One process's closed loop; writes its latencies (µs) to `fd`.
void loop(const DbSettings& settings, bool causal, double seconds, int fd) {
  Connection connection(settings, Account::app);
  const std::string id(16, '\x01');
  connection.query("SELECT 1");
  std::vector<std::uint32_t> micros;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    const auto start = std::chrono::steady_clock::now();
    if (causal) {
      connection.causal_query(kFindSession, {std::string_view(id)});
    } else {
      connection.query(kFindSession, {std::string_view(id)});
    }
    micros.push_back(
        static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - start)
                                       .count()));
  }
  const char* data = reinterpret_cast<const char*>(micros.data());
  std::size_t left = micros.size() * sizeof(std::uint32_t);
  while (left > 0) {
    const ssize_t n = write(fd, data, left);
    if (n <= 0) break;
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

Run measure(const DbSettings& settings, bool causal, int processes, double seconds) {
  std::vector<int> fds;
  std::vector<pid_t> pids;
  for (int i = 0; i < processes; ++i) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) std::exit(1);
    const pid_t pid = fork();
    if (pid == 0) {
      close(pipe_fds[0]);
      try {
        loop(settings, causal, seconds, pipe_fds[1]);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "causal_reads: %s\n", e.what());
        _exit(1);
      }
      _exit(0);
    }
    close(pipe_fds[1]);
    fds.push_back(pipe_fds[0]);
    pids.push_back(pid);
  }
  std::vector<std::uint32_t> all;
  for (int fd : fds) {
    std::uint32_t buffer[4096];
    ssize_t n;
    std::string rest;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) {
      rest.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n));
    }
    for (std::size_t i = 0; i + 4 <= rest.size(); i += 4) {
      std::uint32_t v;
      std::memcpy(&v, rest.data() + i, 4);
      all.push_back(v);
    }
    close(fd);
  }
  for (pid_t pid : pids)
    waitpid(pid, nullptr, 0);
  std::sort(all.begin(), all.end());
  Run run;
  run.causal = causal;
  if (all.empty()) return run;
  run.reads_per_s = static_cast<double>(all.size()) / seconds;
  run.p50_ms = all[all.size() / 2] / 1000.0;
  run.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)] / 1000.0;
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  int processes = 2;
  double seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--processes") == 0) processes = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
  }
  DbSettings settings;
  settings.host = env("MYSQL_HOST", "127.0.0.1");
  settings.port = static_cast<unsigned>(std::atoi(env("MYSQL_PORT", "3306").c_str()));
  settings.user = env("MYSQL_USER");
  settings.password = env("MYSQL_PASSWORD");
  settings.database = env("MYSQL_DB");
  Connection probe(settings, Account::app);
  probe.query("SELECT 1");
  const bool wsrep = probe.causal_reads();
  const Run plain = measure(settings, false, processes, seconds);
  const Run causal = measure(settings, true, processes, seconds);
  std::printf(
      "session lookups, %d processes, %.0f s each (%s): plain %.0f/s (p50 %.3f ms, p99 %.3f ms); "
      "causal %.0f/s (p50 %.3f ms, p99 %.3f ms); causal costs %.0f %% of the throughput\n",
      processes, seconds, wsrep ? "Galera node, wsrep_sync_wait=1" : "no wsrep: both plain",
      plain.reads_per_s, plain.p50_ms, plain.p99_ms, causal.reads_per_s, causal.p50_ms,
      causal.p99_ms,
      plain.reads_per_s > 0 ? 100.0 * (1.0 - causal.reads_per_s / plain.reads_per_s) : 0.0);
  return 0;
}
