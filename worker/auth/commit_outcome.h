#pragma once
// A write whose commit was sent but whose answer was lost (the database
// died, hung or was cut off at that moment: StoreCommitUnknown) may or may
// not have been applied. Answering 503 "nothing was changed" could be a lie,
// and answering success could be one too, so the use case asks the database
// again: its own write is recognisable (a row with the id it chose, the
// hash it computed).
#include <functional>
#include <string_view>

namespace authd {

// Runs `write`. When it throws StoreCommitUnknown, runs `applied` (a re-read
// on a fresh connection) and
//   - returns normally when the write is in the database (answer success),
//   - throws StoreUnavailable when it is not (a true 503: nothing written),
//   - rethrows the StoreCommitUnknown when the re-read fails too (the HTTP
//     layer answers 503 saying the outcome is unknown, and logs it).
// Any other exception passes through untouched.
void write_then_settle(std::string_view use_case, const std::function<void()>& write,
                       const std::function<bool()>& applied);

}  // namespace authd
