#pragma once
#include "adapters/mysql/conflict_retry.h"
#include "adapters/mysql/connection.h"
#include "ports/transaction.h"

namespace authd::mysql {

// Runs `body` between START TRANSACTION and COMMIT on the worker's one
// connection (which the stores share, so their statements are inside it).
//
// - A transaction the server rolled back because it lost to a concurrent
//   one (1213 from any statement or from COMMIT: a deadlock victim, or on a
//   Galera cluster a failed certification against a commit made through
//   another node) is run again whole: `body` from the start, in a
//   transaction whose causal begin() waits for this node to apply the commit
//   it lost to, so its reads see the winner's writes. Bounded and jittered
//   (ConflictRetry); a unit that keeps losing throws StoreUnavailable (503:
//   nothing was written). So `body` must be re-runnable: it sets every
//   result it hands out afresh on each run, and decides only on what it
//   reads inside the transaction.
// - A node that stops taking work before COMMIT (1047) moves the unit, once,
//   to the node the next connection goes to.
// - Any other exception from `body` rolls back (when the connection is still
//   alive; a lost one was rolled back by the server) and is rethrown as is.
// - A COMMIT refused by the server rolls back and throws StoreError.
// - A COMMIT whose answer was lost (errno 2013) throws StoreCommitUnknown:
//   the transaction may have been applied. Re-read to find out if it
//   matters (StoreCommitUnknown is a StoreUnavailable, so ignoring the
//   difference still answers 503).
// - Transactions do not nest: in_transaction inside `body` throws StoreError.
class MysqlTransactionRunner final : public TransactionRunner {
 public:
  explicit MysqlTransactionRunner(Connection& connection,
                                  const ConflictRetryPolicy& policy = ConflictRetryPolicy{})
      : connection_(connection), policy_(policy) {}

  void in_transaction(const std::function<void()>& body) override;

 private:
  Connection& connection_;
  ConflictRetryPolicy policy_;
};

}  // namespace authd::mysql
