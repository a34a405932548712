#pragma once
// Owning handles for the C API's objects, so every exit path frees them.
#include <mysql.h>

#include <memory>

namespace authd::mysql {

struct CloseConnection {
  void operator()(MYSQL* handle) const noexcept { mysql_close(handle); }
};
struct CloseStatement {
  void operator()(MYSQL_STMT* handle) const noexcept { mysql_stmt_close(handle); }
};
struct FreeResult {
  void operator()(MYSQL_RES* handle) const noexcept { mysql_free_result(handle); }
};

using ConnectionHandle = std::unique_ptr<MYSQL, CloseConnection>;
using StatementHandle = std::unique_ptr<MYSQL_STMT, CloseStatement>;
using ResultHandle = std::unique_ptr<MYSQL_RES, FreeResult>;

}  // namespace authd::mysql
