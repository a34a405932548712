#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

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
  CurlSmtpTransport transport(SmtpSettings{"smtp://127.0.0.1:1", "", "", "", 2, 5, 5});
  const SendResult r = transport.send("a@x.example", "b@x.example", "Subject: x\r\n\r\n");
  EXPECT_EQ(r.status, SendResult::Status::unavailable);
  EXPECT_FALSE(r.detail.empty());
}

}  // namespace
}  // namespace authd
