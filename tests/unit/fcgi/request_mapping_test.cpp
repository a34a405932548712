// FastCGI parameters → Request: the admission stamp nginx adds.
#include "fcgi/request_mapping.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "fakes/fcgi_params.h"

namespace authd::fcgi {
namespace {

http::Request map(std::vector<std::string> params) {
  return testing::request_from(std::move(params));
}

TEST(RequestMapping, NginxsMsecStampIsReadInMilliseconds) {
  EXPECT_EQ(map({"AUTHD_QUEUED_AT=1765000000.123"}).queued_at_ms, 1'765'000'000'123);
  EXPECT_EQ(map({"AUTHD_QUEUED_AT=1765000000"}).queued_at_ms, 1'765'000'000'000);
}

TEST(RequestMapping, AMalformedStampIsNoStamp) {
  for (const char* bad : {"AUTHD_QUEUED_AT=", "AUTHD_QUEUED_AT=abc", "AUTHD_QUEUED_AT=1.5",
                          "AUTHD_QUEUED_AT=1765000000.1234", "AUTHD_QUEUED_AT=-1765000000.123",
                          "AUTHD_QUEUED_AT=1765000000.-12", "AUTHD_QUEUED_AT=1765000000.12x",
                          "AUTHD_QUEUED_AT=9999999999999.000", "AUTHD_QUEUED_AT=+1.000"}) {
    EXPECT_FALSE(map({bad}).queued_at_ms) << bad;
  }
  EXPECT_FALSE(map({"REQUEST_METHOD=GET"}).queued_at_ms);
}

TEST(RequestMapping, TheFirstStampWinsAsForEveryParameter) {
  // nginx sends its own parameters before the client's headers (HTTP_*),
  // and a header can never be named AUTHD_QUEUED_AT.
  EXPECT_EQ(map({"AUTHD_QUEUED_AT=1765000000.001", "AUTHD_QUEUED_AT=1765000009.000"}).queued_at_ms,
            1'765'000'000'001);
}

}  // namespace
}  // namespace authd::fcgi
