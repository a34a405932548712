#pragma once
// How long the mailer waits before trying again, after `failures` failed
// attempts in a row: 1, 2, 4, 8, 16, 32, then 60 s for good (API.md: the
// backoff is capped at 60 s, so a relay that comes back is used within a
// minute).
#include "ports/clock.h"

namespace authd::mail {

inline constexpr UnixSeconds kMaxRetryDelaySeconds = 60;

UnixSeconds retry_delay_seconds(unsigned failures);

}  // namespace authd::mail
