"""Per-account throttling in the database (API.md "Throttling"), through
nginx with API_WORKERS=2: thresholds, Retry-After, no password hash spent
on a refused attempt (timed against the default Argon2id cost), unknown
emails alike, the owner on another address never locked out, and client
addresses from X-Forwarded-For only behind a trusted proxy.

Most tests run on the second pool (E2E_ES256_URL): it hashes at the default
cost, and its nginx trusts X-Forwarded-For from E2E_TRUSTED_PROXY
(127.0.0.2), so a test connecting from there can be any client address."""
import os
import secrets
import statistics
import time

import pytest

from authd_e2e import (Api, assert_json, assert_problem, assert_retry_after, describe,
                       api_from, strong_password, unique_email)

FREE_FAILURES = 5


@pytest.fixture(scope="module")
def proxy() -> str:
    addr = os.environ.get("E2E_TRUSTED_PROXY")
    if not addr:
        pytest.skip("E2E_TRUSTED_PROXY is not set")
    return addr


def client_address() -> str:
    """A fresh address for each simulated client (198.18.0.0/15, the
    benchmarking range: 65 000 of them, so tests do not share one)."""
    return f"198.{18 + secrets.randbelow(2)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


class Client:
    """A client at `address`, reaching the pool through the trusted proxy
    (which appends the address to X-Forwarded-For)."""

    def __init__(self, base_url: str, proxy: str, address: str):
        self.api = Api(base_url, expect_throttling=True, source_address=proxy)
        self.xff = {"X-Forwarded-For": f"192.0.2.77, {address}"}  # right-most entry counts

    def login(self, email: str, password: str):
        start = time.perf_counter()
        r = self.api.login(email, password, headers=self.xff)
        return r, (time.perf_counter() - start) * 1000

    def change_password(self, email: str, current: str, new: str):
        return self.api.change_password(email, current, new, headers=self.xff)

    def close(self):
        self.api.close()


@pytest.fixture
def clients(es256_url, proxy):
    made = []

    def make(address: str | None = None) -> Client:
        c = Client(es256_url, proxy, address or client_address())
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


@pytest.fixture
def es256_user(es256_api):
    email, pw = unique_email("throttle"), strong_password()
    assert es256_api.register(email, pw).status_code == 201
    return email, pw


def fail_until_blocked(client: Client, email: str) -> list[float]:
    """Failures 1..6 (the 6th blocks the pair); returns their times (ms)."""
    times = []
    for n in range(1, FREE_FAILURES + 2):
        r, ms = client.login(email, "wrong-" + secrets.token_hex(6))
        assert r.status_code in (401,), f"failure {n}: {describe(r)}"
        times.append(ms)
    return times


def test_seventh_quick_attempt_is_refused_without_spending_a_hash(clients, es256_user):
    email, pw = es256_user
    attacker = clients()
    failed_ms = fail_until_blocked(attacker, email)
    throttled_ms = []
    for i in range(8):
        r, ms = attacker.login(email, pw if i == 0 else "wrong")  # even the right password waits
        retry = assert_retry_after(r, at_most=30)
        assert retry >= 29 or i > 0
        throttled_ms.append(ms)
    m401, m429 = statistics.median(failed_ms), statistics.median(throttled_ms)
    print(f"\nthrottling latency through nginx (API_WORKERS=2, Argon2id 19 MiB t=2): "
          f"401 median {m401:.1f} ms (min {min(failed_ms):.1f}, max {max(failed_ms):.1f}) over "
          f"{len(failed_ms)}; 429 median {m429:.1f} ms (min {min(throttled_ms):.1f}, "
          f"max {max(throttled_ms):.1f}) over {len(throttled_ms)}")
    assert m429 < m401 / 3, f"a 429 ({m429:.1f} ms) costs like a hash (401: {m401:.1f} ms)"
    assert m429 < 50, f"429 median {m429:.1f} ms: not 'a few milliseconds'"


def test_a_concurrent_burst_is_refused_from_the_seventh_attempt(clients, es256_user):
    """Ten attempts at once from one address, spread over the pool's two
    workers: six are judged (401), four refused unhashed (429), whichever
    worker takes them. (Requests the pool sheds with 503 are retried.)"""
    import concurrent.futures
    email, _ = es256_user
    address = client_address()
    burst = [clients(address) for _ in range(10)]

    def attempt(c: Client) -> int:
        for _ in range(200):
            r, _ = c.login(email, "wrong-" + secrets.token_hex(4))
            if r.status_code != 503:
                return r.status_code
            time.sleep(0.02)
        return 503

    with concurrent.futures.ThreadPoolExecutor(len(burst)) as pool:
        codes = list(pool.map(attempt, burst))
    print(f"\nburst of 10 at once: {codes.count(401)} x 401, {codes.count(429)} x 429")
    assert sorted(codes) == [401] * 6 + [429] * 4, codes


def test_unknown_emails_are_throttled_alike(clients):
    email = unique_email("nobody")
    attacker = clients()
    failed_ms = fail_until_blocked(attacker, email)
    throttled_ms = []
    for _ in range(5):
        r, ms = attacker.login(email, "whatever-password")
        assert_retry_after(r, at_most=30)
        throttled_ms.append(ms)
    m401, m429 = statistics.median(failed_ms), statistics.median(throttled_ms)
    print(f"\nunknown email: 401 median {m401:.1f} ms, 429 median {m429:.1f} ms")
    assert m429 < m401 / 3


def test_the_owner_on_another_address_still_logs_in(clients, es256_user):
    email, pw = es256_user
    attacker, owner = clients(), clients()
    fail_until_blocked(attacker, email)
    assert_retry_after(attacker.login(email, pw)[0])
    r, _ = owner.login(email, pw)
    assert r.status_code == 200, describe(r)
    # The owner's success clears the owner's pair and the email counter,
    # not the attacker's address.
    assert_retry_after(attacker.login(email, pw)[0])


def test_a_success_clears_the_counters(clients, es256_user):
    email, pw = es256_user
    c = clients()
    for _ in range(FREE_FAILURES):
        assert c.login(email, "wrong-one")[0].status_code == 401
    assert c.login(email, pw)[0].status_code == 200
    for _ in range(FREE_FAILURES):
        assert c.login(email, "wrong-two")[0].status_code == 401
    r, _ = c.login(email, pw)
    assert r.status_code == 200, f"counted from before the success: {describe(r)}"


def test_password_change_failures_count_with_login_failures(clients, es256_user):
    email, pw = es256_user
    c = clients()
    for _ in range(3):
        assert c.login(email, "wrong-login")[0].status_code == 401
    for _ in range(3):
        assert c.change_password(email, "wrong-current", strong_password()).status_code == 401
    assert_retry_after(c.login(email, pw)[0])
    assert_retry_after(c.change_password(email, pw, strong_password()))


def test_the_delay_doubles_after_the_block_ends(clients, es256_user, db):
    """Failure 6 blocks for 30 s, failure 7 (after the block) for 60 s."""
    email, pw = es256_user
    c = clients()
    fail_until_blocked(c, email)
    assert 29 <= assert_retry_after(c.login(email, pw)[0]) <= 30
    with db.cursor() as cur:  # the 30 s are over
        cur.execute("UPDATE login_throttle SET blocked_until = UTC_TIMESTAMP() - INTERVAL 1 SECOND"
                    " WHERE email_hash = UNHEX(SHA2(%s, 256)) AND blocked_until IS NOT NULL",
                    (email,))
        assert cur.rowcount == 1
    db.commit()
    assert c.login(email, "wrong-seventh")[0].status_code == 401
    assert 59 <= assert_retry_after(c.login(email, pw)[0]) <= 60


def test_guessing_from_many_addresses_is_slowed_per_email(clients, es256_user):
    """20 failures for one email (5 from each of 4 addresses, none blocked
    alone) rest the email on every address for 30 s."""
    email, pw = es256_user
    for _ in range(4):
        c = clients()
        for _ in range(FREE_FAILURES):
            assert c.login(email, "wrong-distributed")[0].status_code == 401
    fresh = clients()
    assert_retry_after(fresh.login(email, pw)[0], at_most=30)


def test_x_forwarded_for_of_an_untrusted_peer_is_ignored(es256_url, es256_user):
    """From 127.0.0.1 (not in TRUSTED_PROXIES) X-Forwarded-For is not
    believed: six failures claiming six addresses are one address's."""
    email, pw = es256_user
    a = Api(es256_url, expect_throttling=True)
    try:
        for _ in range(FREE_FAILURES + 1):
            r = a.login(email, "wrong", headers={"X-Forwarded-For": client_address()})
            assert r.status_code == 401, describe(r)
        r = a.login(email, pw, headers={"X-Forwarded-For": client_address()})
        assert_retry_after(r)
    finally:
        a.close()


def test_the_session_records_the_address_nginx_decided(es256_url, proxy, es256_user):
    email, pw = es256_user
    claimed = client_address()
    via_proxy = Api(es256_url, source_address=proxy)
    direct = Api(es256_url)
    try:
        r = via_proxy.login(email, pw, headers={"X-Forwarded-For": f"10.9.9.9, {claimed}"})
        assert r.status_code == 200, describe(r)
        token = r.json()["access_token"]
        r = direct.login(email, pw, headers={"X-Forwarded-For": "10.1.2.3"})
        assert r.status_code == 200, describe(r)
        listed = assert_json(direct.sessions(token), 200)["sessions"]
        assert sorted(s["ip"] for s in listed) == sorted([claimed, "127.0.0.1"]), listed
    finally:
        via_proxy.close()
        direct.close()


def test_throttling_on_the_main_pool_by_peer_address(base_url_clients):
    """The same rules on the main pool, each client its own loopback address."""
    attacker, owner, user = base_url_clients
    for _ in range(FREE_FAILURES + 1):
        assert attacker.login(user.email, "wrong").status_code == 401
    r = attacker.login(user.email, user.password)
    assert_problem(r, 429, "too_many_attempts")
    assert owner.login(user.email, user.password).status_code == 200


@pytest.fixture
def base_url_clients(make_user, log_files):
    attacker = api_from(f"127.0.{secrets.randbelow(200) + 20}.1", log_files,
                        expect_throttling=True)
    owner = api_from(f"127.0.{secrets.randbelow(200) + 20}.2", log_files)
    yield attacker, owner, make_user()
    attacker.close()
    owner.close()
