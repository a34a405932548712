#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "adapters/mail/curl_smtp_transport.h"
#include "adapters/mail/eml_file_transport.h"
#include "fakes/fakes.h"

namespace authd {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "authd-eml-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(EmlFileTransport, WritesOnePrivateFilePerMessageInAPrivateDirectory) {
  TempDir tmp;
  testing::ManualClock clock;
  testing::SeededRandom random;
  const std::string dir = (tmp.path() / "var" / "mail").string();
  EmlFileTransport transport(dir, clock, random);
  const std::string message = "Subject: one\r\n\r\nbody #token=abc\r\n";
  ASSERT_TRUE(transport.send("noreply@x.example", "ann@example.com", message).ok());
  ASSERT_TRUE(transport.send("noreply@x.example", "bob@example.com", "Subject: two\r\n\r\n").ok());

  struct stat info {};
  ASSERT_EQ(stat(dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    files.push_back(entry.path());
  ASSERT_EQ(files.size(), 2u) << "no temporary file left behind";
  std::sort(files.begin(), files.end());
  bool found = false;
  for (const auto& f : files) {
    EXPECT_EQ(f.extension(), ".eml");
    ASSERT_EQ(stat(f.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    std::ifstream in(f, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (text.str() == message) found = true;
  }
  EXPECT_TRUE(found);
}

TEST(EmlFileTransport, AnUnwritableDirectoryIsAFailureToRetry) {
  TempDir tmp;
  testing::ManualClock clock;
  testing::SeededRandom random;
  const fs::path blocker = tmp.path() / "file";
  std::ofstream(blocker) << "x";
  EmlFileTransport transport((blocker / "mail").string(), clock, random);
  const SendResult r = transport.send("a@x.example", "b@x.example", "Subject: x\r\n\r\n");
  EXPECT_EQ(r.status, SendResult::Status::unavailable);
  EXPECT_NE(r.detail.find("MAIL_DIR"), std::string::npos);
}

TEST(CurlSmtpTransport, LoopbackRelaysAreRecognised) {
  EXPECT_TRUE(CurlSmtpTransport::is_loopback_url("smtp://127.0.0.1:2525"));
  EXPECT_TRUE(CurlSmtpTransport::is_loopback_url("smtp://127.1.2.3"));
  EXPECT_TRUE(CurlSmtpTransport::is_loopback_url("smtp://localhost:25"));
  EXPECT_TRUE(CurlSmtpTransport::is_loopback_url("smtp://[::1]:25"));
  EXPECT_FALSE(CurlSmtpTransport::is_loopback_url("smtp://mail.example.com:587"));
  EXPECT_FALSE(CurlSmtpTransport::is_loopback_url("smtp://localhost.example.com"));
  EXPECT_FALSE(CurlSmtpTransport::is_loopback_url("smtp://[2001:db8::1]:25"));
  EXPECT_FALSE(CurlSmtpTransport::is_loopback_url("smtp://10.0.0.1:25"));
}

TEST(CurlSmtpTransport, ANonListeningRelayIsUnavailableNotRefused) {
  // Port 1 on loopback: nothing listens there (connection refused at once).
  SmtpSettings settings;
  settings.url = "smtp://127.0.0.1:1";
  settings.connect_timeout_s = 2;
  settings.timeout_s = 5;
  settings.reply_timeout_s = 5;
  CurlSmtpTransport transport(settings);
  const SendResult r = transport.send("a@x.example", "b@x.example", "Subject: x\r\n\r\n");
  EXPECT_EQ(r.status, SendResult::Status::unavailable);
  EXPECT_FALSE(r.detail.empty());
}

// A relay that speaks SMTP without offering STARTTLS, on one address of
// this machine, for one connection. It records whether a message was
// handed to it (in clear).
class PlainRelay {
 public:
  explicit PlainRelay(const std::string& address) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    ::inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd_, 1) != 0) {
      ADD_FAILURE() << "cannot listen on " << address;
      return;
    }
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { serve_one(); });
  }
  ~PlainRelay() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  bool got_data() const { return got_data_; }

 private:
  void serve_one() {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    timeval tv{5, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto say = [c](std::string_view line) { (void)!::write(c, line.data(), line.size()); };
    say("220 plain.example ESMTP\r\n");
    std::string buffer;
    bool in_data = false;
    char chunk[512];
    while (true) {
      const ssize_t n = ::read(c, chunk, sizeof chunk);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
      std::size_t end;
      while ((end = buffer.find("\r\n")) != std::string::npos) {
        const std::string line = buffer.substr(0, end);
        buffer.erase(0, end + 2);
        if (in_data) {
          if (line == ".") {
            in_data = false;
            got_data_ = true;
            say("250 queued\r\n");
          }
          continue;
        }
        const std::string verb = line.substr(0, 4);
        if (verb == "EHLO") {
          say("250-plain.example\r\n250 SIZE 1000000\r\n");  // no STARTTLS offered
        } else if (verb == "DATA") {
          in_data = true;
          say("354 go on\r\n");
        } else if (verb == "QUIT") {
          say("221 bye\r\n");
          ::close(c);
          return;
        } else {
          say("250 ok\r\n");
        }
      }
    }
    ::close(c);
  }
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  bool got_data_ = false;
};

// An IPv4 address of this machine that is not loopback (the relay must be
// "elsewhere" for the rule to apply).
std::string non_loopback_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::string found;
  for (ifaddrs* a = list; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_LOOPBACK) || !(a->ifa_flags & IFF_UP)) continue;
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    found = text;
  }
  ::freeifaddrs(list);
  return found;
}

SmtpSettings relay_settings(const std::string& address, int port) {
  SmtpSettings s;
  s.url = "smtp://" + address + ":" + std::to_string(port);
  s.connect_timeout_s = 2;
  s.timeout_s = 5;
  s.reply_timeout_s = 5;
  return s;
}

// Finding 11: without credentials, STARTTLS was only tried, so a relay on
// another machine (or someone on the path) got the reset links in clear.
TEST(CurlSmtpTransport, Finding11ARelayElsewhereWithoutTlsGetsNothing) {
  const std::string address = non_loopback_address();
  ASSERT_FALSE(address.empty()) << "this test needs an IPv4 address that is not loopback";
  PlainRelay relay(address);
  CurlSmtpTransport transport(relay_settings(address, relay.port()));
  const SendResult r =
      transport.send("a@x.example", "b@x.example", "Subject: reset\r\n\r\n#token=secret\r\n");
  transport.close_connection();
  EXPECT_NE(r.status, SendResult::Status::sent) << r.detail;
  EXPECT_FALSE(relay.got_data()) << "the message went out in clear";
}

TEST(CurlSmtpTransport, Finding11PlainTextElsewhereOnlyWhenExplicitlyAllowed) {
  const std::string address = non_loopback_address();
  ASSERT_FALSE(address.empty()) << "this test needs an IPv4 address that is not loopback";
  PlainRelay relay(address);
  SmtpSettings settings = relay_settings(address, relay.port());
  settings.allow_plaintext = true;
  CurlSmtpTransport transport(settings);
  const SendResult r = transport.send("a@x.example", "b@x.example", "Subject: x\r\n\r\nhi\r\n");
  transport.close_connection();
  EXPECT_EQ(r.status, SendResult::Status::sent) << r.detail;
  EXPECT_TRUE(relay.got_data());
}

TEST(CurlSmtpTransport, Finding11TheRuleByRelay) {
  SmtpSettings s;
  s.url = "smtp://mail.example.com:587";
  EXPECT_TRUE(CurlSmtpTransport::tls_required(s));
  s.allow_plaintext = true;
  EXPECT_FALSE(CurlSmtpTransport::tls_required(s));
  s.user = "u";
  EXPECT_TRUE(CurlSmtpTransport::tls_required(s)) << "credentials never in clear elsewhere";
  s.url = "smtp://127.0.0.1:25";
  s.allow_plaintext = false;
  EXPECT_FALSE(CurlSmtpTransport::tls_required(s)) << "loopback: tried, not required";
}

}  // namespace
}  // namespace authd
