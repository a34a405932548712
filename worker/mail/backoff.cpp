#include "mail/backoff.h"

namespace authd::mail {

UnixSeconds retry_delay_seconds(unsigned failures) {
  if (failures == 0) return 0;
  // 2^(failures-1), stopping before it could overflow or pass the cap.
  UnixSeconds delay = 1;
  for (unsigned i = 1; i < failures && delay < kMaxRetryDelaySeconds; ++i)
    delay *= 2;
  return delay < kMaxRetryDelaySeconds ? delay : kMaxRetryDelaySeconds;
}

}  // namespace authd::mail
