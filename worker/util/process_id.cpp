#include "util/process_id.h"

#include <pthread.h>
#include <unistd.h>

namespace authd {
namespace {

pid_t g_pid = 0;

void forget_pid() {
  g_pid = 0;
}

}  // namespace

pid_t current_pid() {
  static const bool registered = [] {
    ::pthread_atfork(nullptr, nullptr, forget_pid);  // runs in the child
    return true;
  }();
  static_cast<void>(registered);
  if (g_pid == 0) g_pid = ::getpid();
  return g_pid;
}

}  // namespace authd
