#include "fcgi/server.h"

#include <fcgiapp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string>

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

// The parameters the HTTP layer reads, picked out of nginx's list in one
// pass (FCGX_GetParam would scan the whole list once per name). As with
// FCGX_GetParam, the first of two equal names wins: nginx puts the
// parameters it sets itself (fastcgi_param) before the request's headers.
http::Request read_request(FCGX_Request& req) {
  http::Request r;
  std::string_view document_uri, request_uri, content_type, length;
  bool has_content_type = false;
  unsigned seen = 0;
  auto first = [&seen](unsigned bit) {
    const bool is_first = (seen & bit) == 0;
    seen |= bit;
    return is_first;
  };
  for (char** p = req.envp; p != nullptr && *p != nullptr; ++p) {
    const std::string_view entry(*p);
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = entry.substr(0, eq);
    const std::string_view value = entry.substr(eq + 1);
    if (name == "REQUEST_METHOD") {
      if (first(1u << 0)) r.method = value;
    } else if (name == "DOCUMENT_URI") {
      if (first(1u << 1)) document_uri = value;
    } else if (name == "REQUEST_URI") {
      if (first(1u << 2)) request_uri = value;
    } else if (name == "QUERY_STRING") {
      if (first(1u << 3)) r.query = value;
    } else if (name == "CONTENT_TYPE") {
      if (first(1u << 4)) {
        content_type = value;
        has_content_type = true;
      }
    } else if (name == "CONTENT_LENGTH") {
      if (first(1u << 5)) length = value;
    } else if (name == "HTTP_AUTHORIZATION") {
      if (first(1u << 6)) r.authorization = std::string(value);
    } else if (name == "HTTP_X_REQUEST_ID") {
      if (first(1u << 7)) r.request_id = value;
    } else if (name == "REMOTE_ADDR") {
      if (first(1u << 8)) r.remote_addr = value;
    } else if (name == "HTTP_USER_AGENT") {
      if (first(1u << 9)) r.user_agent = value;
    } else if (name == "HTTPS") {
      if (first(1u << 10)) r.https = value == "on";
    }
  }
  r.path = document_uri.empty() ? request_uri.substr(0, request_uri.find('?')) : document_uri;
  if (has_content_type && !content_type.empty()) r.content_type = std::string(content_type);

  std::size_t declared = 0;
  if (!length.empty()) {
    auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), declared);
    if (ec != std::errc() || end != length.data() + length.size()) {
      declared = http::kMaxBodyBytes + 1;  // unreadable: refuse as too large
    }
    r.content_length = declared;
  }
  // Never read more than the cap (+1 to notice an overflow): the HTTP layer
  // answers 413 for a declared or actual size beyond it.
  if (declared <= http::kMaxBodyBytes) {
    char buf[4096];
    while (r.body.size() <= http::kMaxBodyBytes) {
      int n = FCGX_GetStr(buf, sizeof buf, req.in);
      if (n <= 0) break;
      r.body.append(buf, static_cast<std::size_t>(n));
    }
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

  // Waits for a connection while stop signals may arrive; accepts it
  // without blocking (another child may have taken it). -1: nothing to
  // serve now.
  int accept_connection(const StopControl& stop) {
    epoll_event ev{};
    int rc = ::epoll_pwait(epoll_fd_, &ev, 1, -1, stop.idle_mask);
    if (rc <= 0) return -1;  // EINTR: a signal; the caller checks the stop flag
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return -1;  // EAGAIN: another child won the race
    // A peer that stops sending or reading must not hold this child forever.
    timeval tv{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
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

}  // namespace

long serve(int listen_fd, http::HttpApp& app, const StopControl& stop) {
  FcgiRequest request(listen_fd);
  ListenWait listening(listen_fd);
  long served = 0;
  while (!*stop.stop_requested) {
    int fd = listening.accept_connection(stop);
    if (fd < 0) continue;
    // libfcgi reads the FastCGI records from a connection already open in
    // ipcFd instead of accepting one itself: the accept stays ours.
    // keepConnection stops FCGX_Accept_r's opening FCGX_Finish_r from
    // closing it; the BEGIN_REQUEST record then sets it as nginx asks.
    request.get().ipcFd = fd;
    request.get().keepConnection = 1;
    int rc = FCGX_Accept_r(&request.get());
    if (rc < 0) {
      // A connection that broke before a whole request arrived; libfcgi
      // has closed it. Nothing to answer.
      log::debug("fastcgi_accept_failed", {{"rc", rc}});
      continue;
    }
    http::Request req = read_request(request.get());
    http::Response resp = app.handle(req);
    write_response(request.get(), req, resp);
    finish(request.get());
    ++served;
  }
  return served;
}

}  // namespace authd::fcgi
