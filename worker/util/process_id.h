#pragma once
// This process's id without a system call per ask: glibc's getpid() is not
// cached, and the log (every line) and the database connection (every
// statement, to notice a connection inherited across fork) both want it.
#include <sys/types.h>

namespace authd {

// getpid(), asked once per process; a child made by fork() asks again.
pid_t current_pid();

}  // namespace authd
