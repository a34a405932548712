#pragma once
#include "config/config.h"

namespace authd::cli {

// Waits (bounded) for the database, then refuses an older schema than this
// binary needs, naming the command that fixes it. 0 when fine.
int check_schema(const Config& config);

}  // namespace authd::cli
