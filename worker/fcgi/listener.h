#pragma once
// The FastCGI listening socket, opened by the master before it forks so every
// child accepts on the same queue.
#include <sys/types.h>

#include <string>

namespace authd::fcgi {

// The listen() backlog when FCGI_BACKLOG is unset: as deep as the kernel
// allows (net.core.somaxconn; 4096 when it cannot be read). The queue is
// bounded by time, not length (admission/gate.h): a burst waits in it and
// is served whole, and what waited too long is refused by the worker that
// reaches it. Only beyond somaxconn does nginx's connect fail (503 at once).
int default_backlog();

class Listener {
 public:
  // `spec`: an absolute unix socket path, or `host:port` / `:port` (TCP).
  // The backlog bounds how many connections wait for a free child: beyond
  // it, nginx's connect fails at once and it answers 503 (shedding).
  // A unix socket is made mode 0660 (finding 7 of issue 17: 0666 let any
  // local user speak FastCGI to the pool, forge REMOTE_ADDR and read
  // /metrics), owned by this process's user and `socket_group` when given
  // (a name or a number: FCGI_SOCKET_GROUP, the group nginx's workers run
  // in), else this process's group.
  // Throws std::runtime_error with the reason when it cannot listen.
  Listener(const std::string& spec, int backlog, const std::string& socket_group = {});
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int fd() const { return fd_; }
  const std::string& description() const { return description_; }

 private:
  int fd_ = -1;
  std::string unix_path_;
  pid_t owner_pid_ = 0;
  std::string description_;
};

}  // namespace authd::fcgi
