// Finding 7 of issue 17: the FastCGI door. The request id is judged by the
// worker itself (not only by nginx), and the unix socket is not open to
// every local user.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "fcgi/listener.h"
#include "fcgi/request_mapping.h"

#include "fakes/fcgi_params.h"

namespace authd::fcgi {
namespace {

http::Request map(std::vector<std::string> params) {
  return testing::request_from(std::move(params));
}

TEST(RequestId, Finding07AnIdThatIsNotASafeTokenIsReplaced) {
  for (const std::string& bad :
       {std::string("x\r\nSet-Cookie: injected=1"), std::string("a b"), std::string("\"quoted\""),
        std::string(65, 'a'), std::string("caf\xc3\xa9"), std::string("a/b"), std::string("{}")}) {
    const auto r = map({"REQUEST_METHOD=GET", "DOCUMENT_URI=/health", "HTTP_X_REQUEST_ID=" + bad});
    EXPECT_NE(r.request_id, bad);
    EXPECT_TRUE(is_valid_request_id(r.request_id)) << r.request_id;
    EXPECT_EQ(r.request_id.find_first_of("\r\n"), std::string::npos);
  }
}

TEST(RequestId, Finding07ASafeIdIsKeptAndAMissingOneMade) {
  const std::string longest(64, 'Z');
  EXPECT_EQ(map({"HTTP_X_REQUEST_ID=abc-DEF_1.2"}).request_id, "abc-DEF_1.2");
  EXPECT_EQ(map({"HTTP_X_REQUEST_ID=" + longest}).request_id, longest);
  const auto a = map({"REQUEST_METHOD=GET"}).request_id;
  const auto b = map({"REQUEST_METHOD=GET", "HTTP_X_REQUEST_ID="}).request_id;
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(is_valid_request_id(a));
  EXPECT_TRUE(is_valid_request_id(b));
  EXPECT_NE(a, b) << "each request its own";
}

class SocketDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "authd-sock-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(SocketDir, Finding07TheUnixSocketIsForItsOwnerAndGroupOnly) {
  const std::string path = dir_ + "/authd.sock";
  // Whatever the umask says.
  const mode_t saved = ::umask(0);
  {
    Listener listener(path, 1);
    ::umask(saved);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0660u) << std::oct << (st.st_mode & 07777);
    EXPECT_EQ(st.st_gid, ::getegid());
  }
  ::umask(saved);
}

TEST_F(SocketDir, Finding07TheSocketGroupIsTheOneConfigured) {
  const std::string path = dir_ + "/authd.sock";
  // A group this process may give its files: its own, named by number.
  const std::string own = std::to_string(::getegid());
  Listener listener(path, 1, own);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, ::getegid());
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_THROW(Listener(dir_ + "/other.sock", 1, "no-such-group-authd"), std::runtime_error);
}

}  // namespace
}  // namespace authd::fcgi
