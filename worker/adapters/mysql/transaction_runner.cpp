#include "adapters/mysql/transaction_runner.h"

#include <string>

#include "adapters/mysql/conflict_retry.h"
#include "adapters/mysql/errors.h"
#include "log/log.h"

namespace authd::mysql {

void MysqlTransactionRunner::in_transaction(const std::function<void()>& body) {
  ConflictRetry retry("transaction", connection_.metrics(), policy_);
  bool moved_node = false;
  for (;;) {
    try {
      connection_.begin();
      try {
        body();
      } catch (...) {
        connection_.rollback();
        throw;
      }
      connection_.commit();
      return;
    } catch (const Conflict& conflict) {
      // Rolled back whole by the server (a deadlock victim; on a cluster, a
      // failed certification against a commit made through another node).
      // Run it again from the start. Its begin() is causal on a cluster, so
      // the body's reads see the commit it lost to and decide anew.
      if (!retry.again(conflict.code())) {
        throw StoreUnavailable("transaction lost to concurrent writes " +
                               std::to_string(retry.attempt()) +
                               " times in a row; nothing was written");
      }
    } catch (const ConnectionLost& lost) {
      // The node stopped taking work (out of the primary component) before
      // COMMIT: the transaction died with it, nothing was applied. Once more
      // on the node the next connection goes to. (A COMMIT whose answer was
      // lost is StoreCommitUnknown, never retried: the caller settles it.)
      if (lost.code() != error_code::kNodeNotReady || moved_node) throw;
      moved_node = true;
      log::warn("db_transaction_moved", {{"errno", lost.code()}});
    }
  }
}

}  // namespace authd::mysql
