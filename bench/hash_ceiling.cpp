// The hash ceiling: N processes doing nothing but Argon2id verifications at
// the configured cost, as fast as they can, for a fixed time. Logins per
// second that no server with N workers could beat on this machine (every
// login verifies one password). Uses the server's own hasher, so pepper and
// parameters are exactly those of a login.
//
//   hash_ceiling --workers N --seconds S --memory-kib M --iterations T [--commit]
//
// Prints one JSON object on stdout: {"workers", "seconds", "verifies",
// "per_second", "ms_per_verify"}. PASSWORD_PEPPER is read from the
// environment as the server reads it.
//
// With --commit each verify is followed by one durable single-row INSERT
// (autocommit) on its own MySQL connection: a login must record its session
// before it answers, so verify + commit is the least a login costs on this
// machine's database (MYSQL_HOST, MYSQL_PORT, MYSQL_DB and the migration
// account MYSQL_MIGRATE_USER / MYSQL_MIGRATE_PASSWORD, which may create the
// probe table; it is dropped at the end). Adds "ms_per_commit".
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/crypto/argon2_hasher.h"
#include "adapters/mysql/handles.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  unsigned workers = 1;
  double seconds = 5;
  std::uint64_t memory_kib = 19456;
  std::uint64_t iterations = 2;
  bool commit = false;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: hash_ceiling --workers N --seconds S --memory-kib M --iterations T\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--commit") {
      o.commit = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    if (a == "--workers") {
      o.workers = static_cast<unsigned>(std::strtoul(v, nullptr, 10));
    } else if (a == "--seconds") {
      o.seconds = std::strtod(v, nullptr);
    } else if (a == "--memory-kib") {
      o.memory_kib = std::strtoull(v, nullptr, 10);
    } else if (a == "--iterations") {
      o.iterations = std::strtoull(v, nullptr, 10);
    } else {
      usage();
    }
  }
  if (o.workers == 0 || o.seconds <= 0 || o.memory_kib < 8 || o.iterations == 0) usage();
  return o;
}

// What one child reports through its pipe.
struct ChildResult {
  long verifies = 0;
  double elapsed_s = 0;  // from the common start to its last completed verify
  double commit_s = 0;   // time spent in commits (--commit)
};

std::string env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "hash_ceiling: %s\n", what.c_str());
  std::_Exit(1);
}

constexpr std::string_view kCreateProbe =
    "CREATE TABLE IF NOT EXISTS bench_commit_probe (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
    " worker INT NOT NULL, at DATETIME(6) NOT NULL) ENGINE=InnoDB";
constexpr std::string_view kDropProbe = "DROP TABLE IF EXISTS bench_commit_probe";
constexpr std::string_view kInsertProbe =
    "INSERT INTO bench_commit_probe (worker, at) VALUES (?, NOW(6))";

authd::mysql::ConnectionHandle connect_migrator() {
  authd::mysql::ConnectionHandle c(mysql_init(nullptr));
  if (!c) die("mysql_init");
  const std::string host = env("MYSQL_HOST", "127.0.0.1");
  const unsigned port = static_cast<unsigned>(std::atoi(env("MYSQL_PORT", "3306").c_str()));
  const std::string user = env("MYSQL_MIGRATE_USER", env("MYSQL_USER").c_str());
  const std::string password = env("MYSQL_MIGRATE_PASSWORD", env("MYSQL_PASSWORD").c_str());
  if (!mysql_real_connect(c.get(), host.c_str(), user.c_str(), password.c_str(),
                          env("MYSQL_DB").c_str(), port, nullptr, 0)) {
    die(std::string("connect: ") + mysql_error(c.get()));
  }
  return c;
}

void run_text(MYSQL* c, std::string_view sql) {
  if (mysql_real_query(c, sql.data(), sql.size()) != 0) die(mysql_error(c));
}

ChildResult run_child(authd::Argon2idHasher& hasher, const std::string& stored,
                      std::string_view password, double seconds, bool commit, int worker) {
  authd::mysql::ConnectionHandle db;
  authd::mysql::StatementHandle insert;
  long long worker_value = worker;
  MYSQL_BIND param{};
  if (commit) {
    db = connect_migrator();
    insert.reset(mysql_stmt_init(db.get()));
    if (!insert || mysql_stmt_prepare(insert.get(), kInsertProbe.data(), kInsertProbe.size())) {
      die("prepare");
    }
    param.buffer_type = MYSQL_TYPE_LONGLONG;
    param.buffer = &worker_value;
    if (mysql_stmt_bind_param(insert.get(), &param)) die("bind");
  }
  ChildResult r;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  auto last = start;
  while (last < deadline) {
    if (!hasher.verify(stored, password)) std::_Exit(3);  // would measure the wrong thing
    if (commit) {
      const auto before = Clock::now();
      if (mysql_stmt_execute(insert.get()) != 0) die(mysql_stmt_error(insert.get()));
      r.commit_s += std::chrono::duration<double>(Clock::now() - before).count();
    }
    last = Clock::now();
    ++r.verifies;
  }
  r.elapsed_s = std::chrono::duration<double>(last - start).count();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (sodium_init() < 0) return 1;
  const char* pepper = std::getenv("PASSWORD_PEPPER");
  authd::Argon2idHasher hasher(o.memory_kib, o.iterations, pepper ? pepper : "");
  const std::string password = "violet-Harbor-92-lantern-bench";
  const std::string stored = hasher.hash(password);
  if (o.commit) run_text(connect_migrator().get(), kCreateProbe);

  // Every child waits on `go` so they all start together, and reports on
  // its own pipe.
  int go[2];
  if (pipe(go) != 0) return 1;
  std::vector<pid_t> pids;
  std::vector<int> results;
  for (unsigned i = 0; i < o.workers; ++i) {
    int out[2];
    if (pipe(out) != 0) return 1;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      close(go[1]);
      close(out[0]);
      char byte;
      if (read(go[0], &byte, 1) < 0) std::_Exit(1);  // EOF: the parent said go
      ChildResult r = run_child(hasher, stored, password, o.seconds, o.commit, static_cast<int>(i));
      if (write(out[1], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) std::_Exit(1);
      std::_Exit(0);
    }
    close(out[1]);
    pids.push_back(pid);
    results.push_back(out[0]);
  }
  close(go[0]);
  close(go[1]);  // go

  long verifies = 0;
  double per_second = 0;
  double elapsed_max = 0;
  double commit_s = 0;
  bool ok = true;
  for (std::size_t i = 0; i < pids.size(); ++i) {
    ChildResult r;
    if (read(results[i], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) ok = false;
    close(results[i]);
    int status = 0;
    waitpid(pids[i], &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ok = false;
    if (r.elapsed_s > 0) per_second += r.verifies / r.elapsed_s;
    verifies += r.verifies;
    commit_s += r.commit_s;
    if (r.elapsed_s > elapsed_max) elapsed_max = r.elapsed_s;
  }
  if (o.commit) run_text(connect_migrator().get(), kDropProbe);
  if (!ok || verifies == 0) {
    std::fprintf(stderr, "hash_ceiling: a child failed\n");
    return 1;
  }
  std::printf(
      "{\"workers\":%u,\"seconds\":%.3f,\"memory_kib\":%llu,\"iterations\":%llu,"
      "\"verifies\":%ld,\"per_second\":%.2f,\"ms_per_verify\":%.3f",
      o.workers, elapsed_max, static_cast<unsigned long long>(o.memory_kib),
      static_cast<unsigned long long>(o.iterations), verifies, per_second,
      1000.0 * o.workers / per_second);
  if (o.commit) std::printf(",\"ms_per_commit\":%.3f", 1000.0 * commit_s / verifies);
  std::printf("}\n");
  return 0;
}
