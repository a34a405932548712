#include "fcgi/server.h"

#include <fcgiapp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "fcgi/request_mapping.h"
#include "log/log.h"

namespace authd::fcgi {
namespace {

// RAII over one FCGX_Request bound to the listening socket.
class FcgiRequest {
 public:
  explicit FcgiRequest(int listen_fd) {
    if (FCGX_InitRequest(&request_, listen_fd, 0) != 0) {
      throw std::runtime_error("FCGX_InitRequest failed");
    }
  }
  ~FcgiRequest() { FCGX_Free(&request_, 1); }
  FcgiRequest(const FcgiRequest&) = delete;
  FcgiRequest& operator=(const FcgiRequest&) = delete;

  FCGX_Request& get() { return request_; }

 private:
  FCGX_Request request_{};
};

// At most this many queued connections are served while draining; the
// master has stopped new ones from arriving, so this only bounds a drain
// whose master is gone (PR_SET_PDEATHSIG) while nginx keeps sending. The
// queue may be deep (README "Reliability"), but what waited too long is
// refused in microseconds.
constexpr int kMaxDrained = 8192;

// Parameters (fcgi/request_mapping.cpp, which the fuzzer runs too), then
// the body up to the cap.
http::Request read_request(FCGX_Request& req) {
  http::Request r = request_from_params(req.envp);
  const std::size_t limit = body_bytes_to_read(r);
  char buf[4096];
  while (r.body.size() < limit) {
    int n = FCGX_GetStr(buf, sizeof buf, req.in);
    if (n <= 0) break;
    r.body.append(buf, static_cast<std::size_t>(n));
  }
  return r;
}

void write_response(FCGX_Request& req, const http::Request& request, const http::Response& resp) {
  std::string head;
  head.reserve(256);
  head += "Status: ";
  head += std::to_string(resp.status);
  head += ' ';
  head += http::reason_phrase(resp.status);
  head += "\r\n";
  for (const auto& [name, value] : resp.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "\r\n";
  // FCGX_PutStr with explicit lengths (FCGX_FPrintF's own format parser
  // mishandles some conversions, NOTES-deps.md).
  FCGX_PutStr(head.data(), static_cast<int>(head.size()), req.out);
  if (!resp.body.empty() && request.method != "HEAD") {
    FCGX_PutStr(resp.body.data(), static_cast<int>(resp.body.size()), req.out);
  }
}

// nginx closes its end when it has given up on the request: the client went
// away, or nginx's read timeout fired and it answered 503 already. A
// request whose answer nobody waits for is not run: a change made now would
// be a change the client was told did not happen.
bool peer_gone(int fd) {
  pollfd pfd{fd, POLLRDHUP, 0};
  if (::poll(&pfd, 1, 0) <= 0) return false;
  return (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

// A stop signal that arrived while the listening socket was readable stays
// pending: the wait reports the ready socket, not the signal, and restores
// the blocking mask. Under steady load the socket is always ready, so
// without this a child told to stop would never notice. Let it in now.
void take_pending_stop_signals(const StopControl& stop) {
  sigset_t pending;
  if (::sigpending(&pending) != 0) return;
  bool any = false;
  for (int s : {SIGTERM, SIGINT, SIGHUP})
    any = any || sigismember(&pending, s) == 1;
  if (!any) return;
  sigset_t serving;
  ::sigprocmask(SIG_SETMASK, stop.idle_mask, &serving);  // the handler runs here
  ::sigprocmask(SIG_SETMASK, &serving, nullptr);
}

void limit_peer_time(int fd) {
  // A peer that stops sending or reading must not hold this child forever.
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

enum class Accepted { connection, nothing, listener_closed };

using admission::wall_clock_ms;

std::chrono::nanoseconds thread_cpu() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// The child's wait for the shared listening socket. EPOLLEXCLUSIVE: a new
// connection wakes one idle child, not all of them (with poll() every idle
// child woke, and all but one went back to sleep after a failed accept: a
// context switch and two system calls per child per request).
class ListenWait {
 public:
  explicit ListenWait(int listen_fd)
      : listen_fd_(listen_fd), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = listen_fd;
    if (epoll_fd_ < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
      const int err = errno;
      if (epoll_fd_ >= 0) ::close(epoll_fd_);
      throw std::runtime_error(std::string("epoll on the listening socket: ") + std::strerror(err));
    }
  }
  ~ListenWait() { ::close(epoll_fd_); }
  ListenWait(const ListenWait&) = delete;
  ListenWait& operator=(const ListenWait&) = delete;

  // Takes the next queued connection without blocking; when there is none,
  // tells the gate the queue is empty and waits (stop signals may arrive)
  // until there may be one. The accept comes first so that a busy child goes
  // from one request to the next without a wait.
  Accepted accept_connection(const StopControl& stop, admission::Gate* gate, int* fd_out) {
    take_pending_stop_signals(stop);
    if (*stop.stop_requested) return Accepted::nothing;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      limit_peer_time(fd);
      *fd_out = fd;
      return Accepted::connection;
    }
    // EINVAL: the master shut the socket down (the pool is stopping).
    if (errno == EINVAL) return Accepted::listener_closed;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Accepted::nothing;  // e.g. ECONNABORTED
    // Nothing queued: the queue is empty now (another child may have taken
    // the last one: still empty).
    epoll_event ev{};
    if (gate == nullptr) {
      ::epoll_pwait(epoll_fd_, &ev, 1, -1, stop.idle_mask);
      return Accepted::nothing;  // the caller loops: stop flags, then accept
    }
    const std::int64_t idle_since = wall_clock_ms();
    gate->queue_empty(idle_since);
    // Idle for the gate's settling time: the queue has drained for real,
    // which the gate hears even if no request comes to wake this child.
    int rc = ::epoll_pwait(epoll_fd_, &ev, 1, static_cast<int>(gate->settle_ms()), stop.idle_mask);
    gate->queue_idle(idle_since, wall_clock_ms());
    if (rc == 0) {
      ::epoll_pwait(epoll_fd_, &ev, 1, -1, stop.idle_mask);
      gate->queue_idle(idle_since, wall_clock_ms());
    }
    return Accepted::nothing;  // the caller loops: stop flags, then accept
  }

 private:
  int listen_fd_;
  int epoll_fd_;
};

// Sends the end of the answer and closes the connection at once. libfcgi's
// own close would half-close and then wait, up to 2 s, for nginx to close
// first: the child idles for a round of nginx's event loop after every
// request and, meanwhile, holds a connection the listen queue counts as
// taken, so a small backlog overflows (503) below the pool's capacity.
// A prompt close is safe once nothing the peer sent is left unread (unread
// input would make TCP reset the connection and could cost nginx the
// answer): the request was read to its end, and what remains, the empty
// end-of-input record at most, is drained first.
void finish(FCGX_Request& req) {
  req.keepConnection = 1;  // FCGX_Finish_r: flush and free, but leave the fd to us
  FCGX_Finish_r(&req);
  if (req.ipcFd < 0) return;  // a stream failed: libfcgi has closed it its own way
  char drain[512];
  while (::recv(req.ipcFd, drain, sizeof drain, MSG_DONTWAIT) > 0) {
  }
  ::close(req.ipcFd);
  req.ipcFd = -1;
}

// Refusals are not logged one by one (at thousands a second the log would
// cost more than the refusals): a worker that refuses writes one summary line
// a second at most, and one more at its next request after that.
class ShedSummary {
 public:
  explicit ShedSummary(admission::Lane lane) : lane_(lane) {}
  void refused(const admission::Verdict& verdict, std::int64_t now_ms) {
    ++refused_;
    max_wait_ms_ = std::max(max_wait_ms_, verdict.wait_ms);
    budget_ms_ = verdict.budget_ms;
    flush_if_due(now_ms);
  }
  void flush_if_due(std::int64_t now_ms) {
    if (refused_ == 0 || now_ms - last_line_ms_ < 1000) return;
    log::info("admission_shedding", {{"lane", admission::lane_name(lane_)},
                                     {"refused", refused_},
                                     {"max_wait_ms", max_wait_ms_},
                                     {"budget_ms", budget_ms_}});
    last_line_ms_ = now_ms;
    refused_ = 0;
    max_wait_ms_ = 0;
  }

 private:
  admission::Lane lane_;
  std::int64_t refused_ = 0;
  std::int64_t max_wait_ms_ = 0;
  std::int64_t budget_ms_ = 0;
  std::int64_t last_line_ms_ = 0;
};

// Serves the one request on `fd`. Returns false when there was nothing to
// serve, or the request was refused for its wait.
bool serve_connection(int fd, FcgiRequest& request, http::HttpApp& app,
                      const AdmissionControl& admission, ShedSummary& shed) {
  const auto cpu_at_accept =
      admission.observer != nullptr ? thread_cpu() : std::chrono::nanoseconds{};
  // libfcgi reads the FastCGI records from a connection already open in
  // ipcFd instead of accepting one itself: the accept stays ours.
  // keepConnection stops FCGX_Accept_r's opening FCGX_Finish_r from closing
  // it; the BEGIN_REQUEST record then sets it as nginx asks.
  request.get().ipcFd = fd;
  request.get().keepConnection = 1;
  int rc = FCGX_Accept_r(&request.get());
  if (rc < 0) {
    // A connection that broke before a whole request arrived; libfcgi has
    // closed it. Nothing to answer.
    log::debug("fastcgi_accept_failed", {{"rc", rc}});
    return false;
  }
  http::Request req = read_request(request.get());
  if (peer_gone(fd)) {
    log::set_request_id(req.request_id);
    log::info("request_abandoned", {{"method", req.method}, {"path", req.path}});
    log::clear_request_id();
    finish(request.get());
    return false;
  }
  if (admission.gate != nullptr) {
    const std::int64_t now_ms = wall_clock_ms();
    const admission::Verdict verdict = admission.gate->judge(now_ms, req.queued_at_ms);
    if (!verdict.admit) {
      write_response(request.get(), req,
                     app.refuse_for_wait(req, verdict.wait_ms, verdict.budget_ms));
      finish(request.get());
      if (admission.observer != nullptr) {
        admission.observer->refused(admission.lane, verdict.wait_ms, thread_cpu() - cpu_at_accept);
      }
      shed.refused(verdict, now_ms);
      return false;
    }
    shed.flush_if_due(now_ms);
    if (verdict.timed) {
      req.waited_ms = verdict.wait_ms;
      if (admission.observer != nullptr)
        admission.observer->admitted(admission.lane, verdict.wait_ms);
    }
  }
  http::Response resp = app.handle(req);
  write_response(request.get(), req, resp);
  finish(request.get());
  return true;
}

}  // namespace

long serve(int listen_fd, http::HttpApp& app, const StopControl& stop,
           const AdmissionControl& admission) {
  FcgiRequest request(listen_fd);
  ListenWait listening(listen_fd);
  ShedSummary shed(admission.lane);
  long served = 0;
  bool listener_open = true;
  while (!*stop.stop_requested && listener_open) {
    int fd = -1;
    switch (listening.accept_connection(stop, admission.gate, &fd)) {
      case Accepted::connection:
        served += serve_connection(fd, request, app, admission, shed) ? 1 : 0;
        break;
      case Accepted::listener_closed:
        listener_open = false;
        break;
      case Accepted::nothing:
        break;
    }
  }
  // The pool is stopping: what nginx already queued is answered (served, or
  // refused for its wait like any other), not reset.
  if (*stop.drain_requested) {
    for (int i = 0; i < kMaxDrained; ++i) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) break;  // EAGAIN: nothing queued; EINVAL: shut down and empty
      limit_peer_time(fd);
      served += serve_connection(fd, request, app, admission, shed) ? 1 : 0;
    }
  }
  return served;
}

}  // namespace authd::fcgi
