#pragma once
// Unix seconds (UTC) ⇄ the MYSQL_TIME the C API binds to DATETIME columns.
// The application writes every time itself, so the server's time zone never
// shifts a value.
#include <mysql.h>

#include "ports/clock.h"

namespace authd::mysql {

// What a DATETIME column can hold: 1000-01-01 00:00:00 .. 9999-12-31 23:59:59.
inline constexpr UnixSeconds kEarliestDatetime = -30610224000;
inline constexpr UnixSeconds kLatestDatetime = 253402300799;

// Throws StoreError for a time outside the DATETIME range.
MYSQL_TIME to_mysql_time(UnixSeconds seconds);

// Throws StoreError for a value that is not a valid date and time (zero dates,
// TIME values). Fractional seconds are dropped.
UnixSeconds from_mysql_time(const MYSQL_TIME& value);

}  // namespace authd::mysql
