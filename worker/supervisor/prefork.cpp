#include "supervisor/prefork.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "log/log.h"

namespace authd::supervisor {
namespace {

using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_child_stop = 0;
volatile sig_atomic_t g_child_drain = 0;
void on_child_stop_signal(int sig) {
  if (sig != SIGHUP) g_child_drain = 1;
  g_child_stop = 1;
}

sigset_t managed_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGCHLD);
  return set;
}

struct ChildInfo {
  std::size_t group = 0;
  Clock::time_point started;
  bool retiring = false;  // asked to stop (reload or drain): not replaced
};

class Master {
 public:
  Master(const PreforkOptions& options, const ChildMain& child_main)
      : options_(options), child_main_(child_main) {}

  int run() {
    sigset_t set = managed_signals();
    sigprocmask(SIG_BLOCK, &set, &original_mask_);
    log::info("pool_starting", {{"workers", total_workers()}});
    for (std::size_t g = 0; g < options_.groups.size(); ++g)
      for (unsigned i = 0; i < options_.groups[g].workers; ++i)
        spawn(g);

    while (true) {
      timespec tick{0, 200 * 1000 * 1000};
      siginfo_t info;
      int sig = sigtimedwait(&set, &info, &tick);
      reap();
      if (sig == SIGTERM || sig == SIGINT) return drain(sig);
      if (sig == SIGHUP) reload();
      top_up();
    }
  }

 private:
  unsigned total_workers() const {
    unsigned n = 0;
    for (const auto& g : options_.groups)
      n += g.workers;
    return n;
  }

  pid_t spawn(std::size_t group) {
    pid_t pid = fork();
    if (pid < 0) {
      log::error("fork_failed", {{"error", std::strerror(errno)}});
      return -1;
    }
    if (pid == 0) _exit(child(group));
    children_[pid] = ChildInfo{group, Clock::now(), false};
    log::debug("worker_started", {{"worker_pid", static_cast<std::int64_t>(pid)}});
    return pid;
  }

  int child(std::size_t group) {
    log::set_component("worker");
    // If the master dies (even SIGKILL), drain and go too.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    // The master may already be gone (it died between fork and prctl). Not
    // `getppid() == 1`: in a container the master itself is pid 1.
    if (getppid() != master_pid_) return 0;
    struct sigaction sa {};
    sa.sa_handler = on_child_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    signal(SIGCHLD, SIG_DFL);
    // Stop signals stay blocked while a request is served; they are
    // unblocked only while the child waits for a connection.
    sigset_t mask = original_mask_;
    for (int s : {SIGTERM, SIGINT, SIGHUP})
      sigaddset(&mask, s);
    sigprocmask(SIG_SETMASK, &mask, nullptr);
    sigset_t idle = original_mask_;
    for (int s : {SIGTERM, SIGINT, SIGHUP})
      sigdelset(&idle, s);
    ChildSignals signals{&g_child_stop, &g_child_drain, &idle};
    try {
      return child_main_(signals, group);
    } catch (const std::exception& e) {
      log::error("worker_crashed", {{"error", e.what()}});
      return 70;
    }
  }

  // Collects exited children; logs how each ended.
  void reap() {
    while (true) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      auto it = children_.find(pid);
      if (it == children_.end()) continue;
      const bool retiring = it->second.retiring;
      const auto lived = Clock::now() - it->second.started;
      children_.erase(it);
      if (options_.on_child_exit) options_.on_child_exit(pid, !retiring);
      if (retiring) {
        log::debug("worker_stopped", {{"worker_pid", static_cast<std::int64_t>(pid)}});
        continue;
      }
      std::string how = WIFSIGNALED(status) ? std::string("signal ") + strsignal(WTERMSIG(status))
                                            : "exit status " + std::to_string(WEXITSTATUS(status));
      log::error("worker_died",
                 {{"worker_pid", static_cast<std::int64_t>(pid)},
                  {"how", how},
                  {"lived_ms",
                   static_cast<std::int64_t>(
                       std::chrono::duration_cast<std::chrono::milliseconds>(lived).count())}});
      // A child that dies young counts towards the crash-loop back-off.
      if (lived < std::chrono::seconds(1)) {
        // A loop long over is forgotten: one young death much later starts
        // the back-off from its first step again.
        if (Clock::now() - last_quick_death_ > std::chrono::seconds(30)) quick_deaths_ = 0;
        last_quick_death_ = Clock::now();
        quick_deaths_ = std::min(quick_deaths_ + 1, 6);
      } else {
        quick_deaths_ = 0;
      }
      if (quick_deaths_ > 0) {
        auto delay = std::chrono::milliseconds(100 << (quick_deaths_ - 1));  // .1 s … 3.2 s
        next_spawn_allowed_ = Clock::now() + delay;
        if (quick_deaths_ >= 3) {
          log::error("worker_crash_loop",
                     {{"quick_deaths", quick_deaths_},
                      {"respawn_delay_ms", static_cast<std::int64_t>(delay.count())}});
        }
      }
    }
  }

  unsigned active(std::size_t group) const {
    unsigned n = 0;
    for (const auto& [pid, info] : children_)
      if (!info.retiring && info.group == group) ++n;
    return n;
  }
  unsigned active() const {
    unsigned n = 0;
    for (std::size_t g = 0; g < options_.groups.size(); ++g)
      n += active(g);
    return n;
  }

  // Keeps each group at its size, one spawn per allowed moment when crashing.
  void top_up() {
    for (std::size_t g = 0; g < options_.groups.size(); ++g) {
      while (active(g) < options_.groups[g].workers) {
        if (Clock::now() < next_spawn_allowed_) return;
        if (spawn(g) < 0) return;
        if (quick_deaths_ > 0) return;
      }
    }
  }

  void wait_for_exit(pid_t pid, Clock::time_point deadline) {
    while (children_.count(pid) && Clock::now() < deadline) {
      timespec tick{0, 20 * 1000 * 1000};
      sigset_t chld;
      sigemptyset(&chld);
      sigaddset(&chld, SIGCHLD);
      sigtimedwait(&chld, nullptr, &tick);
      reap();
    }
  }

  // One child at a time: start its replacement, then retire it once the
  // replacement is accepting, so capacity never drops below the pool size.
  void reload() {
    log::info("pool_reloading", {{"workers", total_workers()}});
    std::vector<pid_t> old;
    for (const auto& [pid, info] : children_)
      if (!info.retiring) old.push_back(pid);
    for (pid_t pid : old) {
      auto it = children_.find(pid);
      if (it == children_.end()) continue;
      if (spawn(it->second.group) < 0) break;
      children_[pid].retiring = true;
      kill(pid, SIGHUP);  // retire: the queue is the others' to serve
      wait_for_exit(pid, Clock::now() + std::chrono::seconds(options_.drain_timeout_s));
      if (children_.count(pid)) kill(pid, SIGKILL);
    }
    log::info("pool_reloaded", {{"workers", active()}});
  }

  int drain(int sig) {
    log::info("pool_draining", {{"signal", strsignal(sig)}, {"workers", active()}});
    for (auto& [pid, info] : children_) {
      info.retiring = true;
      kill(pid, SIGTERM);
    }
    // No new connections from now on: nginx's connect is refused and it
    // answers 503 at once, while the children serve what is already queued
    // (on a unix socket; a TCP listener drops its queue, which nginx also
    // answers 503). Nothing queued is left to be reset by our exit.
    for (const auto& g : options_.groups)
      if (g.listen_fd >= 0) shutdown(g.listen_fd, SHUT_RD);
    auto deadline = Clock::now() + std::chrono::seconds(options_.drain_timeout_s);
    while (!children_.empty() && Clock::now() < deadline) {
      timespec tick{0, 20 * 1000 * 1000};
      sigset_t chld;
      sigemptyset(&chld);
      sigaddset(&chld, SIGCHLD);
      sigtimedwait(&chld, nullptr, &tick);
      reap();
    }
    if (!children_.empty()) {
      log::error("pool_drain_timeout", {{"killed", static_cast<std::int64_t>(children_.size())}});
      for (auto& [pid, info] : children_)
        kill(pid, SIGKILL);
      while (waitpid(-1, nullptr, 0) > 0) {
      }
      return 1;
    }
    log::info("pool_stopped");
    return 0;
  }

  const PreforkOptions& options_;
  const ChildMain& child_main_;
  sigset_t original_mask_{};
  const pid_t master_pid_ = ::getpid();
  std::map<pid_t, ChildInfo> children_;
  int quick_deaths_ = 0;
  Clock::time_point last_quick_death_{};
  Clock::time_point next_spawn_allowed_{};
};

}  // namespace

int run_prefork(const PreforkOptions& options, const ChildMain& child_main) {
  Master master(options, child_main);
  return master.run();
}

}  // namespace authd::supervisor
