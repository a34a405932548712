#include "adapters/mysql/transaction_runner.h"

namespace authd::mysql {

void MysqlTransactionRunner::in_transaction(const std::function<void()>& body) {
  connection_.begin();
  try {
    body();
  } catch (...) {
    connection_.rollback();
    throw;
  }
  connection_.commit();
}

}  // namespace authd::mysql
