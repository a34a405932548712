#include "adapters/mysql/datetime.h"

#include <ctime>
#include <string>

#include "ports/store_errors.h"

namespace authd::mysql {

MYSQL_TIME to_mysql_time(UnixSeconds seconds) {
  if (seconds < kEarliestDatetime || seconds > kLatestDatetime) {
    throw StoreError("mysql: time " + std::to_string(seconds) + " is outside the DATETIME range");
  }
  const auto as_time_t = static_cast<std::time_t>(seconds);
  std::tm parts{};
  if (gmtime_r(&as_time_t, &parts) == nullptr) {
    throw StoreError("mysql: cannot convert time " + std::to_string(seconds));
  }
  MYSQL_TIME out{};
  out.year = static_cast<unsigned>(parts.tm_year + 1900);
  out.month = static_cast<unsigned>(parts.tm_mon + 1);
  out.day = static_cast<unsigned>(parts.tm_mday);
  out.hour = static_cast<unsigned>(parts.tm_hour);
  out.minute = static_cast<unsigned>(parts.tm_min);
  out.second = static_cast<unsigned>(parts.tm_sec);
  out.time_type = MYSQL_TIMESTAMP_DATETIME;
  return out;
}

UnixSeconds from_mysql_time(const MYSQL_TIME& value) {
  const bool is_date =
      value.time_type == MYSQL_TIMESTAMP_DATETIME || value.time_type == MYSQL_TIMESTAMP_DATE;
  if (!is_date || value.neg || value.year < 1000 || value.year > 9999 || value.month < 1 ||
      value.month > 12 || value.day < 1 || value.day > 31 || value.hour > 23 || value.minute > 59 ||
      value.second > 59) {
    throw StoreError("mysql: column holds no valid DATETIME");
  }
  std::tm parts{};
  parts.tm_year = static_cast<int>(value.year) - 1900;
  parts.tm_mon = static_cast<int>(value.month) - 1;
  parts.tm_mday = static_cast<int>(value.day);
  parts.tm_hour = static_cast<int>(value.hour);
  parts.tm_min = static_cast<int>(value.minute);
  parts.tm_sec = static_cast<int>(value.second);
  // timegm, unlike mktime, ignores the process's TZ: the column holds UTC.
  return static_cast<UnixSeconds>(timegm(&parts));
}

}  // namespace authd::mysql
