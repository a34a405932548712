"""Finding 12 of issue 17: per-address limits keyed IPv6 clients on /128, so
one subscriber (who usually holds a whole /64) had 2^64 budgets. nginx's
limit_req and the database's (email, address) counters both key an IPv6
client on its /64 now; IPv4 stays /32.

Clients with IPv6 addresses are made with X-Forwarded-For through a second
nginx that trusts this test's loopback address (TRUSTED_PROXIES), so the
address nginx and the worker see is the forwarded one."""
import secrets

import pytest
import requests

from authd_e2e import own_nginx, unique_email

pytestmark = [pytest.mark.once]


@pytest.fixture(scope="module")
def gateway():
    with own_nginx({"IP_RATE_LIMIT": "1", "TRUSTED_PROXIES": "127.0.0.1/32"}) as urls:
        yield urls["http"]


def post_from(base: str, address: str, path: str, body: bytes) -> int:
    r = requests.post(base + path, data=body, timeout=10,
                      headers={"Content-Type": "application/json", "X-Forwarded-For": address})
    return r.status_code


def test_finding_12_nginx_limits_an_ipv6_client_as_its_slash_64(gateway):
    # IP_RATE_LIMIT=1 with a burst of 20: 21 POSTs pass, then 429. A /64 of
    # its own for this run, written in two ways nginx prints differently.
    net = f"2001:db8:{secrets.randbelow(0xffff):x}"
    a = f"{net}::1:0:0:1"  # nginx prints <net>:0:1::1: four groups written out
    b = f"{net}::ffff:7"   # nginx prints <net>::ffff:7: the fourth inside "::"
    statuses = [post_from(gateway, a, "/auth/refresh", b"{}") for _ in range(11)]
    statuses += [post_from(gateway, b, "/auth/refresh", b"{}") for _ in range(11)]
    print(f"\none /64 from two addresses: {statuses}")
    assert statuses[:21] == [400] * 21, statuses
    assert statuses[21] == 429, "the second address of the /64 shares the first one's budget"
    # Another /64 next to it, and an IPv4 client, have budgets of their own.
    other = f"2001:db8:{(int(net.rsplit(':', 1)[1], 16) + 1) % 0xffff:x}::1"
    assert post_from(gateway, other, "/auth/refresh", b"{}") == 400
    assert post_from(gateway, f"198.51.100.{secrets.randbelow(250) + 1}", "/auth/refresh",
                     b"{}") == 400


def test_finding_12_the_database_counts_an_ipv6_client_as_its_slash_64(gateway):
    email = unique_email("v6")
    net = f"2001:db8:ab{secrets.randbelow(0xff):02x}:{secrets.randbelow(0xffff):x}"
    body = ('{"email": "%s", "password": "wrong-password-wrong"}' % email).encode()
    # Failures 1..6, each from another address of the /64 (nginx's budget:
    # these are the /64's first 7 POSTs, within its burst) ...
    statuses = [post_from(gateway, f"{net}::{i}", "/auth/login", body) for i in range(1, 7)]
    assert statuses == [401] * 6, statuses
    # ... and the seventh, from yet another address of it, is refused.
    assert post_from(gateway, f"{net}:ffff:ffff:ffff:ffff", "/auth/login", body) == 429
    # An address outside the /64 is another client (its own counter).
    outside = f"2001:db8:cd{secrets.randbelow(0xff):02x}::1"
    assert post_from(gateway, outside, "/auth/login", body) == 401
