"""nginx's per-address limit on POSTs under /auth/ (IP_RATE_LIMIT, burst 20,
nodelay): a second nginx of the stack in front of the same pool runs with
IP_RATE_LIMIT=$E2E_IP_RATE_LIMIT_TEST."""
import math
import os
import secrets

from authd_e2e import Api, assert_problem, assert_retry_after

BURST = 20


def test_per_address_limit_answers_429_with_retry_after(rate_limited_url):
    rate = int(os.environ.get("E2E_IP_RATE_LIMIT_TEST", "30"))
    # A loopback address of its own: the limit is per address.
    me = Api(rate_limited_url, expect_throttling=True,
             source_address=f"127.1.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}")
    other = Api(rate_limited_url, source_address=f"127.2.{secrets.randbelow(250)}.1")
    try:
        statuses = []
        last = None
        for _ in range(BURST + 10):
            r = me.post_json("/auth/refresh", {})  # cheap: 400 missing_field when let through
            statuses.append(r.status_code)
            last = r if r.status_code == 429 else last
        passed = statuses.count(400)
        refused = statuses.count(429)
        print(f"\nIP_RATE_LIMIT={rate}: {passed} passed, {refused} refused of {len(statuses)}")
        assert set(statuses) <= {400, 429}, statuses
        assert BURST <= passed <= BURST + 2, statuses
        assert statuses[-5:] == [429] * 5, statuses
        assert last is not None
        retry = assert_retry_after(last)
        assert retry == max(1, math.ceil(60 / rate))
        # Counted per address: another one is not limited ...
        assert_problem(other.post_json("/auth/refresh", {}), 400, "missing_field")
        # ... and only POSTs under /auth/ are.
        assert me.get("/health").status_code == 200
        assert me.get("/auth/me").status_code == 401
    finally:
        me.close()
        other.close()
