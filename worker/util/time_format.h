#pragma once
#include <string>

#include "ports/clock.h"

namespace authd {

// RFC 3339 in UTC, second precision, with `Z` (API.md "Conventions").
std::string format_rfc3339(UnixSeconds t);

}  // namespace authd
