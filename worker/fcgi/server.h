#pragma once
// The FastCGI adapter: turns each FastCGI request into an http::Request and
// the http::Response back into FastCGI records. Knows libfcgi, not routes.
#include <signal.h>

#include "admission/gate.h"
#include "admission/observer.h"
#include "http/app.h"

namespace authd::fcgi {

struct StopControl {
  // Set by a signal handler; checked between requests.
  const volatile sig_atomic_t* stop_requested;
  // Set with stop_requested when the whole pool stops (SIGTERM): before
  // exiting, serve the connections already queued on the listening socket
  // (nginx sent them; the master has stopped new ones from arriving).
  // Unset when only this child retires (reload): the others serve them.
  const volatile sig_atomic_t* drain_requested;
  // The signal mask to wait with (stop signals unblocked only while idle, so
  // a request in hand always finishes and database reads never see EINTR).
  const sigset_t* idle_mask;
};

// The admission gate of this worker's listen queue (admission/gate.h):
// each request is judged by how long it waited before the app sees it.
struct AdmissionControl {
  admission::Gate* gate = nullptr;  // null: every request is served
  admission::Lane lane = admission::Lane::hashing;
  admission::Observer* observer = nullptr;
};

// Serves requests one at a time until a stop is requested. Returns the
// number of requests served (refused ones not counted).
long serve(int listen_fd, http::HttpApp& app, const StopControl& stop,
           const AdmissionControl& admission = {});

}  // namespace authd::fcgi
