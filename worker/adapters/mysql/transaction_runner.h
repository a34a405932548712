#pragma once
#include "adapters/mysql/connection.h"
#include "ports/transaction.h"

namespace authd::mysql {

// Runs `body` between START TRANSACTION and COMMIT on the worker's one
// connection (which the stores share, so their statements are inside it).
//
// - Any exception from `body` rolls back (when the connection is still
//   alive; a lost one was rolled back by the server) and is rethrown as is.
// - A COMMIT refused by the server rolls back and throws StoreError.
// - A COMMIT whose answer was lost (errno 2013) throws StoreCommitUnknown:
//   the transaction may have been applied. Re-read to find out if it
//   matters (StoreCommitUnknown is a StoreUnavailable, so ignoring the
//   difference still answers 503).
// - Transactions do not nest: in_transaction inside `body` throws StoreError.
class MysqlTransactionRunner final : public TransactionRunner {
 public:
  explicit MysqlTransactionRunner(Connection& connection) : connection_(connection) {}

  void in_transaction(const std::function<void()>& body) override;

 private:
  Connection& connection_;
};

}  // namespace authd::mysql
