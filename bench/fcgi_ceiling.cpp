// The FastCGI ceilings: the least a FastCGI responder can do per request,
// served the way authd serves (the listening socket opened before a fork,
// N children each accepting one connection at a time with libfcgi), so that
// nginx configured like ours in front of it gives the requests per second no
// endpoint behind that nginx could beat on this machine.
//
//   fcgi_ceiling --listen /abs/path.sock --workers N --backlog B [--read [--causal]]
//
// Without --read every request is answered with a fixed body. With --read
// each child holds one MySQL connection (MYSQL_HOST, MYSQL_PORT,
// MYSQL_USER, MYSQL_PASSWORD, MYSQL_DB, as the server reads them) and runs
// one prepared primary-key SELECT of a whole sessions row per request: what
// a token check with a live-session lookup cannot go below. --causal makes
// that read causal as authd makes it on a Galera node (wsrep_sync_wait=1 for
// the statement), to measure what read-your-writes across nodes costs.
// Runs until SIGTERM or SIGINT.
#include <fcgiapp.h>
#include <mysql.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/mysql/handles.h"

namespace {

struct Options {
  std::string listen;
  unsigned workers = 1;
  int backlog = 0;
  bool read = false;
  bool causal = false;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: fcgi_ceiling --listen /abs/path.sock --workers N --backlog B [--read "
               "[--causal]]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--read") {
      o.read = true;
      continue;
    }
    if (a == "--causal") {
      o.causal = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    if (a == "--listen") {
      o.listen = v;
    } else if (a == "--workers") {
      o.workers = static_cast<unsigned>(std::strtoul(v, nullptr, 10));
    } else if (a == "--backlog") {
      o.backlog = std::atoi(v);
    } else {
      usage();
    }
  }
  if (o.listen.empty() || o.listen.front() != '/' || o.workers == 0 || o.backlog <= 0) usage();
  return o;
}

std::string env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fcgi_ceiling: %s\n", what.c_str());
  std::_Exit(1);
}

// One connection and the one statement it runs, with result buffers bound
// once: the least work a primary-key read can take through this C API.
class SessionRead {
 public:
  explicit SessionRead(bool causal) : connection_(mysql_init(nullptr)) {
    if (!connection_) die("mysql_init");
    const std::string host = env("MYSQL_HOST", "127.0.0.1");
    const unsigned port = static_cast<unsigned>(std::atoi(env("MYSQL_PORT", "3306").c_str()));
    if (!mysql_real_connect(connection_.get(), host.c_str(), env("MYSQL_USER").c_str(),
                            env("MYSQL_PASSWORD").c_str(), env("MYSQL_DB").c_str(), port, nullptr,
                            0)) {
      die(std::string("connect: ") + mysql_error(connection_.get()));
    }
    // A real session id to look up, so the read finds its row.
    constexpr std::string_view kAny = "SELECT id FROM sessions LIMIT 1";
    if (mysql_real_query(connection_.get(), kAny.data(), kAny.size()) != 0) die("pick a session");
    authd::mysql::ResultHandle any(mysql_store_result(connection_.get()));
    MYSQL_ROW row = any ? mysql_fetch_row(any.get()) : nullptr;
    unsigned long* lengths = row ? mysql_fetch_lengths(any.get()) : nullptr;
    if (!row || !lengths || lengths[0] != 16) die("no session in the database: log in first");
    std::memcpy(key_.data(), row[0], 16);

    const std::string kRead =
        std::string(causal ? "SET STATEMENT wsrep_sync_wait=1 FOR " : "") +
        "SELECT id, user_id, created_at, last_used_at, expires_at, auth_time, revoked_at, amr,"
        " user_agent, ip, refresh_hash, prev_refresh_hash, next_refresh_sealed, rotated_at"
        " FROM sessions WHERE id = ?";
    statement_.reset(mysql_stmt_init(connection_.get()));
    if (!statement_ || mysql_stmt_prepare(statement_.get(), kRead.data(), kRead.size()) != 0) {
      die("prepare");
    }
    key_length_ = key_.size();
    MYSQL_BIND param{};
    param.buffer_type = MYSQL_TYPE_BLOB;
    param.buffer = key_.data();
    param.buffer_length = key_.size();
    param.length = &key_length_;
    if (mysql_stmt_bind_param(statement_.get(), &param)) die("bind");
    for (std::size_t i = 0; i < kColumns; ++i) {
      MYSQL_BIND& b = results_[i];
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = cells_[i].data();
      b.buffer_length = cells_[i].size();
      b.length = &lengths_[i];
      b.is_null = &nulls_[i];
    }
    if (mysql_stmt_bind_result(statement_.get(), results_.data())) die("bind result");
  }

  // True when the row was found.
  bool run() {
    if (mysql_stmt_execute(statement_.get()) != 0) return false;
    if (mysql_stmt_store_result(statement_.get()) != 0) return false;
    bool found = false;
    while (true) {
      int rc = mysql_stmt_fetch(statement_.get());
      if (rc == MYSQL_NO_DATA || rc == 1) break;
      found = true;
    }
    mysql_stmt_free_result(statement_.get());
    return found;
  }

 private:
  static constexpr std::size_t kColumns = 14;
  authd::mysql::ConnectionHandle connection_;
  authd::mysql::StatementHandle statement_;
  std::array<char, 16> key_{};
  unsigned long key_length_ = 0;
  std::array<MYSQL_BIND, kColumns> results_{};
  std::array<std::array<char, 600>, kColumns> cells_{};
  std::array<unsigned long, kColumns> lengths_{};
  std::array<my_bool, kColumns> nulls_{};
};

constexpr std::string_view kOk =
    "Status: 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n\r\n"
    "{\"status\":\"ok\"}";
constexpr std::string_view kFailed =
    "Status: 500 Internal Server Error\r\nContent-Type: application/json\r\n\r\n"
    "{\"status\":\"read failed\"}";

int child(int listen_fd, bool read, bool causal) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  std::unique_ptr<SessionRead> db;
  if (read) db = std::make_unique<SessionRead>(causal);
  FCGX_Request request;
  if (FCGX_InitRequest(&request, listen_fd, 0) != 0) die("FCGX_InitRequest");
  while (FCGX_Accept_r(&request) >= 0) {
    const bool ok = !db || db->run();
    const std::string_view answer = ok ? kOk : kFailed;
    FCGX_PutStr(answer.data(), static_cast<int>(answer.size()), request.out);
    // Closed at once after the answer, as authd closes (worker/fcgi/
    // server.cpp): not libfcgi's half-close and wait for nginx to close.
    // The ceiling keeps every saving the server can make.
    while (FCGX_GetChar(request.in) != EOF) {
    }
    request.keepConnection = 1;
    FCGX_Finish_r(&request);
    if (request.ipcFd >= 0) {
      char drain[512];
      while (::recv(request.ipcFd, drain, sizeof drain, MSG_DONTWAIT) > 0) {
      }
      ::close(request.ipcFd);
      request.ipcFd = -1;
    }
  }
  return 0;
}

volatile sig_atomic_t g_stop = 0;
void on_stop(int) {
  g_stop = 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (FCGX_Init() != 0) die("FCGX_Init");
  signal(SIGPIPE, SIG_IGN);
  ::unlink(o.listen.c_str());
  const int fd = FCGX_OpenSocket(o.listen.c_str(), o.backlog);
  if (fd < 0) die("cannot listen on " + o.listen);
  ::chmod(o.listen.c_str(), 0666);

  std::vector<pid_t> children;
  for (unsigned i = 0; i < o.workers; ++i) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) std::_Exit(child(fd, o.read, o.causal));
    children.push_back(pid);
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::fprintf(
      stderr, "fcgi_ceiling: %u workers on %s (backlog %d, %s)\n", o.workers, o.listen.c_str(),
      o.backlog,
      o.read ? (o.causal ? "one causal primary-key read" : "one primary-key read") : "fixed body");
  int rc = 0;
  while (!g_stop) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid > 0 && !g_stop) {
      std::fprintf(stderr, "fcgi_ceiling: child %d died\n", static_cast<int>(pid));
      rc = 1;
      g_stop = 1;
    }
  }
  for (pid_t pid : children)
    kill(pid, SIGTERM);
  while (waitpid(-1, nullptr, 0) > 0) {
  }
  ::unlink(o.listen.c_str());
  return rc;
}
