"""GET /metrics through nginx: the Prometheus text of the whole pool, parsed
with Debian's python3-prometheus-client; counters move by exactly what the
test did, whichever worker served each request; refused (404) to addresses
outside METRICS_ALLOW (the default: loopback 127.0.0.1/32 and ::1/128)."""
import json
import os
import threading
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from authd_e2e import Api, assert_problem, media_type, strong_password

# One pool behind nginx, scraped from loopback: the e2e stack. (Several
# replicas are several pools, each scraped on its own by Prometheus.)
pytestmark = pytest.mark.single_pool

FAMILIES = {
    "authd_http_requests": "counter",
    "authd_http_request_duration_seconds": "histogram",
    "authd_password_hash_duration_seconds": "histogram",
    "authd_logins": "counter",
    "authd_refresh_token_reuse": "counter",
    "authd_passkey_registrations": "counter",
    "authd_passkey_logins": "counter",
    "authd_db_errors": "counter",
    "authd_db_reconnects": "counter",
    "authd_worker_restarts": "counter",
    "authd_workers": "gauge",
    "authd_workers_busy": "gauge",
    "authd_admission_refused": "counter",
    "authd_admission_wait_seconds": "histogram",
    "authd_admission_budget_seconds": "gauge",
    "authd_admission_refusal_cpu_seconds": "counter",
    "authd_admin_requests": "counter",
}


def scrape(api) -> dict:
    """{(sample name, sorted label items): value} of one scrape."""
    r = api.get("/metrics")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {}
    types = {}
    for family in text_string_to_metric_families(r.text):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    for name, kind in FAMILIES.items():
        assert types.get(name) == kind, f"{name}: {types.get(name)} (families: {sorted(types)})"
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: dict, after: dict, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_metrics_parse_and_describe_the_pool(api):
    samples = scrape(api)
    assert value(samples, "authd_workers") == 4, (
        "API_WORKERS=2 in the e2e stack, and the fast lane's API_FAST_WORKERS=2 (the default)")
    assert value(samples, "authd_workers_busy") == 1, "only the worker answering this scrape"
    # Nothing waited long in this quiet stack: no refusal, and each lane's
    # long budget in force (ADMISSION_BUDGET_MS, 3 s by default).
    for lane in ("hashing", "fast"):
        assert ("authd_admission_refused_total", (("lane", lane),)) in samples
        assert value(samples, "authd_admission_refused_total", lane=lane) == 0
        assert value(samples, "authd_admission_budget_seconds", lane=lane) == 3.0
    assert value(samples, "authd_admission_wait_seconds_count", lane="fast") >= 1, (
        "this scrape itself was timed in the fast lane's queue")
    assert value(samples, "authd_worker_restarts_total") == 0
    for outcome in ("ok", "failed", "throttled", "disabled", "mfa_required"):
        assert ("authd_logins_total", (("outcome", outcome),)) in samples


def test_metrics_are_refused_to_addresses_outside_metrics_allow():
    """127.0.0.2 is loopback, but not 127.0.0.1/32: the same 404 as a path
    that does not exist, so the endpoint is not even advertised."""
    outsider = Api(source_address="127.0.0.2")
    try:
        r = outsider.get("/metrics")
        body = assert_problem(r, 404, "not_found")
        assert "authd_" not in r.text
        assert body["detail"]
        assert outsider.get("/health").status_code == 200, "the address is otherwise served"
    finally:
        outsider.close()


def test_counters_move_by_exactly_what_the_test_did_across_workers(api, make_user):
    users = [make_user() for _ in range(2)]
    victim = make_user()
    refresher = make_user()
    marker = uuid.uuid4().hex[:12]
    errors = []
    together = threading.Barrier(2)

    before = scrape(api)

    # Two clients at once against two workers, starting each login together
    # (a login holds its worker for an Argon2id verify): both workers serve.
    def client(n: int) -> None:
        a = Api()
        seq = iter(range(1000))

        def rid() -> dict:
            return {"X-Request-ID": f"m{marker}-{n}-{next(seq)}"}
        try:
            u = users[n]
            for _ in range(10):
                r = a.get("/health", headers=rid())
                assert r.status_code == 200, r.text
            for _ in range(3):
                together.wait(30)
                assert a.login(u.email, u.password, headers=rid()).status_code == 200
            for _ in range(2):
                together.wait(30)
                assert a.login(u.email, strong_password(), headers=rid()).status_code == 401
            assert a.me("not.a.token", headers=rid()).status_code == 401
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)
            together.abort()
        finally:
            a.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors

    # Per-account throttling: failures 1-6 count, the 7th attempt is refused
    # before any hash.
    throttled = Api(expect_throttling=True)
    try:
        for _ in range(6):
            assert throttled.login(victim.email, strong_password()).status_code == 401
        assert throttled.login(victim.email, victim.password).status_code == 429
    finally:
        throttled.close()

    # Refresh reuse: a token presented again after its successor was used.
    s = api.login(refresher.email, refresher.password).json()
    first = api.post_json("/auth/refresh", {"refresh_token": s["refresh_token"]})
    assert first.status_code == 200, first.text
    second = api.post_json("/auth/refresh", {"refresh_token": first.json()["refresh_token"]})
    assert second.status_code == 200, second.text
    reuse = api.post_json("/auth/refresh", {"refresh_token": s["refresh_token"]})
    assert reuse.status_code == 401, reuse.text

    after = scrape(api)

    requests_total = "authd_http_requests_total"
    expected = {
        ("/health", "200"): 20,
        ("/auth/login", "200"): 6 + 1,
        ("/auth/login", "401"): 4 + 6,
        ("/auth/login", "429"): 1,
        ("/auth/me", "401"): 2,
        ("/auth/refresh", "200"): 2,
        ("/auth/refresh", "401"): 1,
        ("/metrics", "200"): 1,  # the first scrape, counted once it was answered
    }
    measured = {k: delta(before, after, requests_total, route=k[0], status=k[1]) for k in expected}
    print(f"requests by route and status, moved by: {measured}")
    assert measured == expected
    total = sum(v for (name, _), v in after.items() if name == requests_total) - \
        sum(v for (name, _), v in before.items() if name == requests_total)
    assert total == sum(expected.values()), "nothing else was counted"

    logins = {o: delta(before, after, "authd_logins_total", outcome=o)
              for o in ("ok", "failed", "throttled", "disabled", "mfa_required")}
    print(f"logins moved by: {logins}")
    assert logins == {"ok": 7, "failed": 10, "throttled": 1, "disabled": 0, "mfa_required": 0}

    verifies = delta(before, after, "authd_password_hash_duration_seconds_count",
                     operation="verify")
    hashes = delta(before, after, "authd_password_hash_duration_seconds_count", operation="hash")
    assert (verifies, hashes) == (17, 0), "one verify per login that was not throttled"
    assert delta(before, after, "authd_password_hash_duration_seconds_sum",
                 operation="verify") > 0
    assert delta(before, after, "authd_refresh_token_reuse_total") == 1

    assert delta(before, after, "authd_http_request_duration_seconds_count",
                 route="/health") == 20
    assert delta(before, after, "authd_http_request_duration_seconds_bucket",
                 route="/auth/login", le="+Inf") == 18
    assert delta(before, after, "authd_worker_restarts_total") == 0
    assert value(after, "authd_workers") == 4

    # Both hashing workers served the marked logins (and the fast lane's the
    # rest): the counts above are the pool's, not one worker's. (The worker
    # log names the pid of each.)
    log_files = [f for f in os.environ.get("E2E_LOG_FILES", "").split(":") if f]
    if not log_files:
        print("E2E_LOG_FILES is not set: which workers served is not checked")
        return
    pids = {"hashing": set(), "fast": set()}
    for path in log_files:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if f"m{marker}-" not in line:
                    continue
                event = json.loads(line)
                if event.get("event") == "request" and event.get("component") == "worker":
                    pids[event["lane"]].add(event["pid"])
    print(f"the marked requests were served by worker pids {pids}")
    assert len(pids["hashing"]) == 2, f"all marked logins went to one worker: {pids}"
    assert pids["fast"] and not pids["fast"] & pids["hashing"], pids


@pytest.mark.parametrize("path", ["/metrics"])
def test_metrics_take_get_only(api, path):
    r = api.post_json(path, {})
    assert_problem(r, 405, "method_not_allowed")
    assert media_type(r) == "application/problem+json"
