#pragma once
// The FastCGI adapter: turns each FastCGI request into an http::Request and
// the http::Response back into FastCGI records. Knows libfcgi, not routes.
#include <signal.h>

#include "http/app.h"

namespace authd::fcgi {

struct StopControl {
  // Set by a signal handler; checked between requests.
  const volatile sig_atomic_t* stop_requested;
  // The signal mask to wait with (stop signals unblocked only while idle, so
  // a request in hand always finishes and database reads never see EINTR).
  const sigset_t* idle_mask;
};

// Serves requests one at a time until a stop is requested. Returns the
// number of requests served.
long serve(int listen_fd, http::HttpApp& app, const StopControl& stop);

}  // namespace authd::fcgi
