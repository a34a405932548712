#include "log/log.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <regex>
#include <string>

#include "fakes/captured_stderr.h"

namespace authd::log {
namespace {

using testing::captured_stderr;

rapidjson::Document parse_line(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse(line.c_str(), line.size());
  EXPECT_FALSE(doc.HasParseError()) << line;
  EXPECT_TRUE(doc.IsObject()) << line;
  return doc;
}

TEST(LogTest, OneJsonObjectPerLineWithTimestampPidAndFields) {
  set_level(LogLevel::info);
  const std::string out = captured_stderr([] {
    info("request", {{"route", "/auth/me"}, {"status", 200}, {"ok", true}, {"none", nullptr}});
  });
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "one line";
  auto doc = parse_line(out.substr(0, out.size() - 1));
  const std::string ts = doc["ts"].GetString();
  EXPECT_TRUE(std::regex_match(ts, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")))
      << ts;
  EXPECT_EQ(doc["pid"].GetInt64(), ::getpid());
  EXPECT_STREQ(doc["level"].GetString(), "info");
  EXPECT_STREQ(doc["event"].GetString(), "request");
  EXPECT_STREQ(doc["route"].GetString(), "/auth/me");
  EXPECT_EQ(doc["status"].GetInt(), 200);
  EXPECT_TRUE(doc["ok"].GetBool());
  EXPECT_TRUE(doc["none"].IsNull());
}

TEST(LogTest, DoublesHaveThreeDecimals) {
  set_level(LogLevel::info);
  const std::string out = captured_stderr([] {
    info("t", {{"a", 1.5},
               {"b", 0.0004},
               {"c", -2.25},
               {"d", 12345.6789},
               {"e", -0.0001},
               {"f", 0.0},
               {"g", 1.0 / 0.0},
               {"h", 2e15}});
  });
  EXPECT_NE(out.find(R"("a":1.500,"b":0.000,"c":-2.250,"d":12345.679,"e":0.000,"f":0.000,)"
                     R"("g":null,"h":2000000000000000.000})"),
            std::string::npos)
      << out;
}

TEST(LogTest, StringsAreEscaped) {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\nd\re\tf\x01g\x7fh", 16));
  EXPECT_EQ(out, R"("a\"b\\c\nd\re\tf\u0001g\u007fh\u0000")") << "NUL included";
  out.clear();
  append_json_string(out, "caf\xc3\xa9 \xff end \xed\xa0\x80");  // é kept; invalid bytes replaced
  EXPECT_EQ(out, "\"caf\xc3\xa9 \\ufffd end \\ufffd\\ufffd\\ufffd\"");
  out.clear();
  append_json_string(out, "");
  EXPECT_EQ(out, "\"\"");
}

// The pid is asked once per process: a forked child must log its own.
TEST(LogTest, ForkedChildLogsItsOwnPid) {
  set_level(LogLevel::info);
  captured_stderr([] { info("parent"); });  // the parent's pid is now known
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    info("child");
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string line;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
    line.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_FALSE(line.empty());
  auto doc = parse_line(line.substr(0, line.size() - 1));
  EXPECT_EQ(doc["pid"].GetInt64(), child);
}

}  // namespace
}  // namespace authd::log
