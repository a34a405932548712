"""503 unavailable: the database taken away (the worker's 503), and the pool
stopped (nginx's 503). These run last: they need E2E_DB_STOP_CMD /
E2E_DB_START_CMD and E2E_WORKER_STOP_CMD (scripts/e2e-stack.sh sets them),
and are skipped against a deployment the suite does not control."""
import subprocess
import time

import pytest

from authd_e2e import Api, assert_json, assert_problem, strong_password, unique_email


# The pause a worker takes after failing to reach the database
# (mysql::Connection::kUnreachablePause, 1 s), with a margin.
REACHABLE_AGAIN_S = 1.5


def run(cmd: str) -> None:
    p = subprocess.run(cmd, shell=True, timeout=120, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    assert p.returncode == 0, f"{cmd} failed ({p.returncode}): {p.stdout.decode()[-2000:]}"


def assert_unavailable(r):
    body = assert_problem(r, 503, "unavailable")
    ra = r.headers.get("Retry-After", "")
    assert ra.isdigit() and int(ra) >= 1, f"Retry-After {ra!r}"
    return body


@pytest.mark.late(1)
def test_503_while_the_database_is_away_and_recovery(api, make_user, make_session, db_control):
    stop, start = db_control
    s = make_session(make_user())
    known = make_user()
    email = unique_email("outage")
    pw = strong_password()
    run(stop)
    try:
        # Liveness does not depend on the database; readiness does.
        assert assert_json(api.get("/health"), 200) == {"status": "ok"}
        assert_unavailable(api.get("/health/ready"))
        assert_unavailable(api.register(email, pw))
        assert_unavailable(api.login(known.email, known.password))
        assert_unavailable(api.change_password(known.email, known.password, strong_password()))
        assert_unavailable(api.me(s.access_token))
        assert_unavailable(api.refresh(s.refresh_token))
        assert_unavailable(api.sessions(s.access_token))
        assert_unavailable(api.logout(s.access_token))
        # Judged before the database: still the usual answers.
        assert_problem(api.post_raw("/auth/login", b"[]"), 400, "invalid_json")
        assert_problem(api.get("/nope"), 404, "not_found")
    finally:
        run(start)
    # Readiness is each worker's own: the one that answers may be back while
    # another still sits out the 1 s pause it took after a failed connect
    # (moments before the database came up). Back everywhere means ready
    # without a break for longer than that pause.
    deadline = time.time() + 30
    ready_since = None
    while time.time() < deadline:
        if api.get("/health/ready").status_code != 200:
            ready_since = None
        elif ready_since is None:
            ready_since = time.time()
        elif time.time() - ready_since >= REACHABLE_AGAIN_S:
            break
        time.sleep(0.1)
    assert ready_since is not None and time.time() - ready_since >= REACHABLE_AGAIN_S, \
        "not ready everywhere 30 s after the database came back"
    # Nothing was written during the outage: the email is still free, and the
    # old password is still the password.
    assert api.register(email, pw).status_code == 201
    assert api.login(known.email, known.password).status_code == 200
    # Sessions survived the outage, and the refresh token was not spent.
    assert api.me(s.access_token).status_code == 200
    assert api.refresh(s.refresh_token).status_code == 200


@pytest.mark.late(3)
def test_503_from_nginx_when_the_pool_is_gone(worker_stop_cmd):
    """Stops the pool for good: the last test of the run."""
    run(worker_stop_cmd)
    a = Api()
    try:
        deadline = time.time() + 20
        r = a.get("/health")
        while r.status_code == 200 and time.time() < deadline:
            time.sleep(0.2)
            r = a.get("/health")
        for req in (lambda: a.get("/health", headers={"X-Request-ID": "pool-gone"}),
                    lambda: a.login(unique_email(), strong_password()),
                    lambda: a.me("x.y.z")):
            rr = req()
            body = assert_problem(rr, 503, "unavailable")
            assert rr.headers.get("Retry-After") == "1"
            assert body.get("retry_after") == 1
        assert body is not None
        # nginx still answers what it answers itself.
        assert_problem(a.get("/nope"), 404, "not_found")
        assert_problem(a.post_raw("/auth/login", b"x" * 17000), 413, "payload_too_large")
    finally:
        a.close()
