#pragma once
// Recovery codes: ten single-use codes shown once, `xxxx-xxxx-xxxx` from a
// 32-letter alphabet without look-alikes (60 random bits each), compared
// ignoring case, spaces and hyphens.
#include <string>
#include <string_view>
#include <vector>

#include "ports/random.h"

namespace authd::recovery_codes {

inline constexpr std::size_t kCount = 10;

std::vector<std::string> generate(Random& random);

// The form that is hashed and compared: lower case, no spaces or hyphens.
// Empty when the input cannot be a recovery code.
std::string canonical(std::string_view typed);

}  // namespace authd::recovery_codes
