#include "fcgi/server.h"

#include <fcgiapp.h>
#include <poll.h>
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

std::string param(FCGX_Request& req, const char* name) {
  const char* v = FCGX_GetParam(name, req.envp);
  return v ? std::string(v) : std::string();
}

std::optional<std::string> optional_param(FCGX_Request& req, const char* name) {
  const char* v = FCGX_GetParam(name, req.envp);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

http::Request read_request(FCGX_Request& req) {
  http::Request r;
  r.method = param(req, "REQUEST_METHOD");
  r.path = param(req, "DOCUMENT_URI");
  if (r.path.empty()) {
    r.path = param(req, "REQUEST_URI");
    r.path = r.path.substr(0, r.path.find('?'));
  }
  r.query = param(req, "QUERY_STRING");
  auto ct = optional_param(req, "CONTENT_TYPE");
  if (ct && !ct->empty()) r.content_type = std::move(ct);
  r.authorization = optional_param(req, "HTTP_AUTHORIZATION");
  r.request_id = param(req, "HTTP_X_REQUEST_ID");
  r.remote_addr = param(req, "REMOTE_ADDR");
  r.user_agent = param(req, "HTTP_USER_AGENT");
  r.https = param(req, "HTTPS") == "on";

  std::string length = param(req, "CONTENT_LENGTH");
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

void write_response(FCGX_Request& req, const http::Response& resp) {
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
  if (!resp.body.empty() && std::string_view(param(req, "REQUEST_METHOD")) != "HEAD") {
    FCGX_PutStr(resp.body.data(), static_cast<int>(resp.body.size()), req.out);
  }
}

// Waits for a connection while stop signals may arrive; accepts it without
// blocking (another child may have taken it). -1: nothing to serve now.
int accept_connection(int listen_fd, const StopControl& stop) {
  pollfd pfd{listen_fd, POLLIN, 0};
  int rc = ::ppoll(&pfd, 1, nullptr, stop.idle_mask);
  if (rc <= 0) return -1;  // EINTR: a signal; the caller checks the stop flag
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return -1;  // EAGAIN: another child won the race
  // A peer that stops sending or reading must not hold this child forever.
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

}  // namespace

long serve(int listen_fd, http::HttpApp& app, const StopControl& stop) {
  FcgiRequest request(listen_fd);
  long served = 0;
  while (!*stop.stop_requested) {
    int fd = accept_connection(listen_fd, stop);
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
    write_response(request.get(), resp);
    FCGX_Finish_r(&request.get());
    ++served;
  }
  return served;
}

}  // namespace authd::fcgi
