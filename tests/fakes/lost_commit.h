#pragma once
// Checks for a use case whose COMMIT's answer was lost
// (FakeTransactions::lose_next_commit).
#include <gtest/gtest.h>

#include "ports/store_errors.h"

namespace authd::testing {

// `f` throws exactly StoreUnavailable, not its StoreCommitUnknown subclass:
// the use case's re-read could tell that nothing was written.
template <class F>
void expect_plain_unavailable(F&& f) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const StoreCommitUnknown&) {
    ADD_FAILURE() << "reported as unknown, but the re-read could tell";
  } catch (const StoreUnavailable&) {
  }
}

}  // namespace authd::testing
