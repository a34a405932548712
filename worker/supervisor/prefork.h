#pragma once
// The prefork master: forks the children, replaces one that dies (rate
// limited, so a child that crashes at once cannot cause a fork storm), and
// on SIGTERM/SIGINT stops new connections, lets each child finish the
// request in hand and those already queued, and exits.
// SIGHUP replaces the children one at a time (new one first), so a new
// configuration or binary (the children are forked from the master's image:
// a new binary needs a restart of the master; see the README) takes over
// without a failed request.
//
// Signals a child gets: SIGTERM/SIGINT = the pool stops (drain the queue,
// exit); SIGHUP = this child retires (finish the request in hand, exit; the
// others serve the queue).
#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <vector>

namespace authd::supervisor {

// A group of identical children (a lane: its own listening socket).
struct ChildGroup {
  unsigned workers = 1;
  // The group's listening socket: shut down (no new connections; nginx
  // answers 503 at once) when the pool stops. -1: none.
  int listen_fd = -1;
};

struct PreforkOptions {
  std::vector<ChildGroup> groups{ChildGroup{}};
  int drain_timeout_s = 30;  // then SIGKILL what is left
  // Called in the master for every child reaped: `unexpected` when it was
  // not asked to stop (it died, and will be replaced). Metrics use it.
  std::function<void(pid_t pid, bool unexpected)> on_child_exit;
};

// What a child's main loop needs to know about signals.
struct ChildSignals {
  const volatile sig_atomic_t* stop_requested;
  const volatile sig_atomic_t* drain_requested;  // the pool stops, not just this child
  const sigset_t* idle_mask;                     // wait with this mask: stop signals unblocked
};

// Runs in each child after fork (`group`: its index in
// PreforkOptions::groups); returns the child's exit status.
using ChildMain = std::function<int(const ChildSignals&, std::size_t group)>;

// Runs the master until it is told to stop; returns the exit status (0
// after a clean drain).
int run_prefork(const PreforkOptions& options, const ChildMain& child_main);

}  // namespace authd::supervisor
