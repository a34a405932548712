#include "auth/commit_outcome.h"

#include <exception>
#include <string>

#include "log/log.h"
#include "ports/store_errors.h"

namespace authd {

void write_then_settle(std::string_view use_case, const std::function<void()>& write,
                       const std::function<bool()>& applied) {
  try {
    write();
    return;
  } catch (const StoreCommitUnknown&) {
    const std::exception_ptr unknown = std::current_exception();
    bool is_applied = false;
    try {
      is_applied = applied();
    } catch (const StoreUnavailable&) {
      log::warn("commit_outcome_unresolved", {{"use_case", use_case}});
      std::rethrow_exception(unknown);
    }
    log::warn("commit_outcome_resolved", {{"use_case", use_case}, {"applied", is_applied}});
    if (!is_applied) {
      throw StoreUnavailable(std::string(use_case) +
                             ": the commit's answer was lost and the change is not in the "
                             "database: nothing was written");
    }
  }
}

}  // namespace authd
