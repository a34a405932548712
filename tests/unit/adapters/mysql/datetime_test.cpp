#include "adapters/mysql/datetime.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "ports/store_errors.h"

namespace authd::mysql {
namespace {

TEST(MysqlDatetime, EpochIsMidnightFirstOfJanuary1970) {
  const MYSQL_TIME t = to_mysql_time(0);
  EXPECT_EQ(t.year, 1970u);
  EXPECT_EQ(t.month, 1u);
  EXPECT_EQ(t.day, 1u);
  EXPECT_EQ(t.hour, 0u);
  EXPECT_EQ(t.minute, 0u);
  EXPECT_EQ(t.second, 0u);
  EXPECT_EQ(t.time_type, MYSQL_TIMESTAMP_DATETIME);
}

TEST(MysqlDatetime, KnownInstantSplitsIntoUtcFields) {
  // 2024-02-29T13:14:15Z, a leap day.
  const MYSQL_TIME t = to_mysql_time(1709212455);
  EXPECT_EQ(t.year, 2024u);
  EXPECT_EQ(t.month, 2u);
  EXPECT_EQ(t.day, 29u);
  EXPECT_EQ(t.hour, 13u);
  EXPECT_EQ(t.minute, 14u);
  EXPECT_EQ(t.second, 15u);
}

TEST(MysqlDatetime, RoundTripsAcrossTheColumnRange) {
  for (UnixSeconds s : {kEarliestDatetime, UnixSeconds{-1}, UnixSeconds{0}, UnixSeconds{1},
                        UnixSeconds{1709212455}, UnixSeconds{4102444800}, kLatestDatetime}) {
    EXPECT_EQ(from_mysql_time(to_mysql_time(s)), s) << s;
  }
}

TEST(MysqlDatetime, IgnoresTheProcessTimeZone) {
  const char* saved = std::getenv("TZ");
  const std::string previous = saved ? saved : "";
  setenv("TZ", "America/New_York", 1);
  tzset();
  const MYSQL_TIME t = to_mysql_time(0);
  const UnixSeconds back = from_mysql_time(t);
  if (saved) {
    setenv("TZ", previous.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  EXPECT_EQ(t.hour, 0u);
  EXPECT_EQ(back, 0);
}

TEST(MysqlDatetime, RefusesTimesOutsideTheColumnRange) {
  EXPECT_THROW(to_mysql_time(kEarliestDatetime - 1), StoreError);
  EXPECT_THROW(to_mysql_time(kLatestDatetime + 1), StoreError);
}

TEST(MysqlDatetime, RefusesZeroDatesAndTimeValues) {
  MYSQL_TIME zero{};
  zero.time_type = MYSQL_TIMESTAMP_DATETIME;
  EXPECT_THROW(from_mysql_time(zero), StoreError);

  MYSQL_TIME duration = to_mysql_time(0);
  duration.time_type = MYSQL_TIMESTAMP_TIME;
  EXPECT_THROW(from_mysql_time(duration), StoreError);
}

TEST(MysqlDatetime, DropsFractionalSeconds) {
  MYSQL_TIME t = to_mysql_time(100);
  t.second_part = 999999;
  EXPECT_EQ(from_mysql_time(t), 100);
}

}  // namespace
}  // namespace authd::mysql
