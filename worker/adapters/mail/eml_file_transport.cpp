#include "adapters/mail/eml_file_transport.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/base64url.h"

namespace authd {
namespace {

struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

// mkdir -p, each new level 0700.
bool make_directories(const std::string& path) {
  std::string prefix;
  std::size_t at = 0;
  while (at != std::string::npos) {
    at = path.find('/', at + 1);
    prefix = path.substr(0, at);
    if (prefix.empty()) continue;
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return false;
  }
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

SendResult failure(const std::string& what) {
  return {SendResult::Status::unavailable, what + ": " + std::strerror(errno)};
}

}  // namespace

SendResult EmlFileTransport::send(std::string_view /*envelope_from*/,
                                  std::string_view /*recipient*/, std::string_view message) {
  if (!make_directories(directory_)) return failure("cannot create MAIL_DIR");
  // Sorted by time when listed; the random part keeps names unique across
  // mailers.
  const std::string name =
      std::to_string(clock_.now_ms()) + "-" + base64url_encode(random_.bytes(9)) + ".eml";
  const std::string final_path = directory_ + "/" + name;
  const std::string temporary = directory_ + "/." + name + ".tmp";
  {
    FileDescriptor file{::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (file.fd < 0) return failure("cannot create a message file");
    std::string_view rest = message;
    while (!rest.empty()) {
      const ssize_t n = ::write(file.fd, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::unlink(temporary.c_str());
        return failure("cannot write a message file");
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(file.fd) != 0) {
      ::unlink(temporary.c_str());
      return failure("cannot sync a message file");
    }
  }
  if (::rename(temporary.c_str(), final_path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return failure("cannot rename a message file");
  }
  return {SendResult::Status::sent, {}};
}

}  // namespace authd
