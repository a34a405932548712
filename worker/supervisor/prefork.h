#pragma once
// The prefork master: forks the children, replaces one that dies (rate
// limited, so a child that crashes at once cannot cause a fork storm), and
// on SIGTERM/SIGINT lets each child finish the request in hand and exit.
// SIGHUP replaces the children one at a time (new one first), so a new
// binary or configuration takes over without a failed request.
#include <signal.h>
#include <sys/types.h>

#include <functional>

namespace authd::supervisor {

struct PreforkOptions {
  unsigned workers = 1;
  int drain_timeout_s = 30;  // then SIGKILL what is left
  // Called in the master for every child reaped: `unexpected` when it was
  // not asked to stop (it died, and will be replaced). Metrics use it.
  std::function<void(pid_t pid, bool unexpected)> on_child_exit;
};

// What a child's main loop needs to know about signals.
struct ChildSignals {
  const volatile sig_atomic_t* stop_requested;
  const sigset_t* idle_mask;  // wait with this mask: stop signals unblocked
};

// Runs in each child after fork; returns the child's exit status.
using ChildMain = std::function<int(const ChildSignals&)>;

// Runs the master until it is told to stop; returns the exit status (0
// after a clean drain).
int run_prefork(const PreforkOptions& options, const ChildMain& child_main);

}  // namespace authd::supervisor
