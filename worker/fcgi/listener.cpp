#include "fcgi/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace authd::fcgi {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

gid_t group_id(const std::string& group) {
  if (!group.empty() && group.find_first_not_of("0123456789") == std::string::npos) {
    return static_cast<gid_t>(std::stoul(group));
  }
  const struct group* found = ::getgrnam(group.c_str());
  if (found == nullptr) throw std::runtime_error("FCGI_SOCKET_GROUP: no group named " + group);
  return found->gr_gid;
}

}  // namespace

int default_backlog() {
  std::ifstream file("/proc/sys/net/core/somaxconn");
  int somaxconn = 0;
  if (file >> somaxconn && somaxconn > 0) return somaxconn;
  return 4096;
}

Listener::Listener(const std::string& spec, int backlog, const std::string& socket_group) {
  if (!spec.empty() && spec.front() == '/') {
    sockaddr_un addr{};
    if (spec.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long");
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, spec.c_str(), spec.size() + 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail("socket");
    ::unlink(spec.c_str());  // a stale socket from a previous run
    // Never reachable by others, not even between bind and chmod: the
    // master is single-threaded here, so the umask is ours to set.
    const mode_t saved_umask = ::umask(0117);
    const int bound = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::umask(saved_umask);
    if (bound < 0) fail("bind " + spec);
    // Owner and group only: nginx's workers run as this user (make run, the
    // e2e stack: root, or the same user) or in FCGI_SOCKET_GROUP.
    if (!socket_group.empty() &&
        ::chown(spec.c_str(), static_cast<uid_t>(-1), group_id(socket_group)) < 0) {
      fail("chown " + spec + " to group " + socket_group);
    }
    if (::chmod(spec.c_str(), 0660) < 0) fail("chmod " + spec);
    unix_path_ = spec;
    owner_pid_ = ::getpid();
    description_ = "unix:" + spec;
  } else {
    auto colon = spec.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("expected host:port, got " + spec);
    std::string host = spec.substr(0, colon);
    std::string port = spec.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0) throw std::runtime_error("cannot resolve " + spec + ": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);
    fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail("socket");
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd_, found->ai_addr, found->ai_addrlen) < 0) fail("bind " + spec);
    description_ = "tcp:" + spec;
  }
  if (::listen(fd_, backlog) < 0) fail("listen");
  // Children poll the socket and accept without blocking, so a child that
  // loses the race for a connection goes back to waiting, where a stop
  // signal can reach it.
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) < 0) fail("fcntl");
}

Listener::~Listener() {
  if (fd_ >= 0) ::close(fd_);
  // Forked children share this object; only the process that made the
  // socket file removes it.
  if (!unix_path_.empty() && owner_pid_ == ::getpid()) ::unlink(unix_path_.c_str());
}

}  // namespace authd::fcgi
