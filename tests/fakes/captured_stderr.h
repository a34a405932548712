#pragma once
// What a piece of code writes to stderr (the log's destination), for tests
// that check a log line: stderr goes to a temporary file while `body` runs.
#include <unistd.h>

#include <cstdio>
#include <string>

namespace authd::testing {

template <typename Body>
std::string captured_stderr(Body body) {
  std::fflush(stderr);
  FILE* file = std::tmpfile();
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(::fileno(file), STDERR_FILENO);
  body();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string out;
  std::rewind(file);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0)
    out.append(buf, n);
  std::fclose(file);
  return out;
}

}  // namespace authd::testing
