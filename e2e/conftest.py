"""Fixtures of the end-to-end suite (pytest through nginx).

Against the throwaway stack of scripts/e2e-stack.sh (`make e2e`), or any
deployment: `E2E_BASE_URL=https://auth.example /usr/bin/python3 -m pytest e2e/`.
Optional access, each opening more checks (skipped, with the reason, without):
  E2E_MYSQL_HOST, E2E_MYSQL_PORT, E2E_MYSQL_USER, E2E_MYSQL_PASSWORD,
  E2E_MYSQL_DB        read the tables (no cleartext password or token)
  E2E_MYSQL_INIT_COMMAND   run first on each such connection (a cluster's
                      stack: `SET SESSION wsrep_sync_wait=1`, so the tests'
                      reads see what any node committed)
  E2E_LOG_FILES       ':'-separated worker/nginx logs (no secret in them)
  E2E_SECRET_KEY      the HS256 key: forge expired / wrong-claim tokens
  E2E_DB_STOP_CMD, E2E_DB_START_CMD   take the database away (503s)
  E2E_WORKER_STOP_CMD stop the pool for good (nginx's 503; runs last)
  E2E_MAIL_DIR, E2E_PUBLIC_BASE_URL   the captured messages (mail_capture.py)
  E2E_SMTP_STOP_CMD, E2E_SMTP_START_CMD, E2E_MAILER_PID_FILE   SMTP outage, mailer crash
  E2E_HTTP_URL, E2E_HTTPS_URL, E2E_CA_BUNDLE   both doors, for the TLS checks
"""
from __future__ import annotations

import os
import time

import pytest

from authd_e2e import BASE_URL, AdminKey, Api, Session, User, assert_json, assert_uuid7, \
    assert_timestamp, bearer, next_step_code, remember, start_setup, strong_password, unique_email
from openapi_check import CONTRACT


def pytest_configure(config):
    import mail_capture
    mail_capture.PYTEST_CONFIG = config  # measurements are shown even when tests pass
    config.addinivalue_line(
        "markers", "late(n): run after the ordinary tests, in increasing n "
        "(1: database outage, 2: log and table scans, 3: pool stopped)")
    config.addinivalue_line(
        "markers", "single_pool: needs the deployment to be one worker pool that this client "
        "may scrape (/metrics from loopback); a stack of several replicas deselects these "
        "with -m 'not single_pool' (scripts/compose-test.sh)")
    config.addinivalue_line(
        "markers", "once: runs in the first pass only (scripts/e2e-stack.sh runs the suite "
        "over HTTP, then over HTTPS with -m 'not once'): what it checks does not depend on "
        "the door the requests come through")


# Fixtures that reach the stack through a door other than E2E_BASE_URL: a
# test that uses one of them and never E2E_BASE_URL (no `api` in its fixture
# closure) checks nothing about that door, so it is `once` too.
OTHER_DOORS = {"es256_url", "es256_api", "rate_limited_url", "auth_request_url"}
# Modules whose client cannot be pointed at the stack's CA (a headless
# browser trusts the system's store only): first pass, over plain HTTP.
FIRST_PASS_MODULES = {"test_docs_browser.py", "test_passkeys_browser.py"}


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        names = set(item.fixturenames)
        if (names & OTHER_DOORS and "api" not in names) or \
                item.path.name in FIRST_PASS_MODULES:
            item.add_marker(pytest.mark.once)
    def rank(item):
        m = item.get_closest_marker("late")
        return m.args[0] if m else 0
    items.sort(key=rank)  # stable: file order otherwise


def pytest_report_header(config):
    return f"authd e2e against {BASE_URL}"


@pytest.fixture(autouse=True)
def every_response_as_documented():
    """Fails the test when a response it received was not as the OpenAPI
    document describes it, even one received in a thread (whose exception
    may have been swallowed)."""
    before = len(CONTRACT.violations)
    yield
    new = CONTRACT.violations[before:]
    if new:
        pytest.fail(f"{len(new)} response(s) not as api/openapi.yaml describes them:\n" +
                    "\n".join(new), pytrace=False)


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(CONTRACT.summary())


@pytest.fixture
def api():
    """A fresh requests.Session per test."""
    a = Api()
    yield a
    a.close()


@pytest.fixture
def new_email():
    """Factory of unique, normalised emails (prefix-<random>@example.com)."""
    return unique_email


@pytest.fixture
def make_user(api):
    """Factory: registers a user (201 asserted) and returns it."""
    def make(email: str | None = None, password: str | None = None) -> User:
        email = email or unique_email()
        password = password or strong_password()
        r = api.register(email, password)
        assert r.status_code == 201, f"register {email}: {r.status_code} {r.text}"
        body = r.json()
        assert_uuid7(body["id"])
        assert_timestamp(body["created_at"])
        return User(email=body["email"], password=password, id=body["id"],
                    created_at=body["created_at"])
    return make


@pytest.fixture
def user(make_user) -> User:
    """A freshly registered user."""
    return make_user()


@pytest.fixture
def make_session(api):
    """Factory: logs a user in (200 asserted) and returns the Session."""
    def login(u: User) -> Session:
        r = api.login(u.email, u.password)
        assert r.status_code == 200, f"login {u.email}: {r.status_code} {r.text}"
        return Session(user=u, body=r.json())
    return login


@pytest.fixture
def session(user, make_session) -> Session:
    """A registered user, logged in once."""
    return make_session(user)


@pytest.fixture
def enrolled(api, user, make_session):
    """A user with TOTP on: (user, pyotp.TOTP, recovery codes, the session, last step used)."""
    import pyotp
    s = make_session(user)
    r = start_setup(api, s, user.password)
    body = assert_json(r, 200)
    remember(body["secret"])
    totp = pyotp.TOTP(body["secret"])
    code, step = next_step_code(totp)
    r = api.post_json("/auth/mfa/totp/confirm", {"code": code}, headers=bearer(s.access_token))
    codes = assert_json(r, 200)["recovery_codes"]
    for c in codes:
        remember(c)
    return user, totp, codes, s, step


# --- optional access ---------------------------------------------------------------

@pytest.fixture(scope="session")
def secret_key() -> bytes:
    key = os.environ.get("E2E_SECRET_KEY")
    if not key:
        pytest.skip("E2E_SECRET_KEY is not set: tokens cannot be forged with the server's key")
    return key.encode()


@pytest.fixture(scope="session")
def db_settings() -> dict:
    names = ["E2E_MYSQL_HOST", "E2E_MYSQL_USER", "E2E_MYSQL_DB"]
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        pytest.skip(f"no database access: {', '.join(missing)} not set")
    return dict(host=os.environ["E2E_MYSQL_HOST"], port=int(os.environ.get("E2E_MYSQL_PORT", "3306")),
                user=os.environ["E2E_MYSQL_USER"], password=os.environ.get("E2E_MYSQL_PASSWORD", ""),
                database=os.environ["E2E_MYSQL_DB"])


@pytest.fixture
def db(db_settings):
    import pymysql
    conn = pymysql.connect(**db_settings, charset="utf8mb4", connect_timeout=5,
                           binary_prefix=True,
                           init_command=os.environ.get("E2E_MYSQL_INIT_COMMAND") or None)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def log_files() -> list[str]:
    raw = os.environ.get("E2E_LOG_FILES")
    if not raw:
        pytest.skip("E2E_LOG_FILES is not set: the logs cannot be read")
    files = [f for f in raw.split(":") if f]
    missing = [f for f in files if not os.path.exists(f)]
    assert not missing, f"E2E_LOG_FILES names files that do not exist: {missing}"
    return files


def _command(name: str) -> str:
    cmd = os.environ.get(name)
    if not cmd:
        pytest.skip(f"{name} is not set: this test needs to control the stack")
    return cmd


@pytest.fixture(scope="session")
def db_control() -> tuple[str, str]:
    return _command("E2E_DB_STOP_CMD"), _command("E2E_DB_START_CMD")


@pytest.fixture(scope="session")
def worker_stop_cmd() -> str:
    return _command("E2E_WORKER_STOP_CMD")


# --- the token lifecycle's extra endpoints of the stack (scripts/e2e-stack.sh) -------

def _url(name: str, what: str) -> str:
    url = os.environ.get(name)
    if not url:
        pytest.skip(f"{name} is not set: no {what} to test against")
    return url.rstrip("/")


@pytest.fixture(scope="session")
def es256_url() -> str:
    """A pool with JWT_ALG=ES256, the default Argon2 cost, a short
    REFRESH_REUSE_GRACE and TRUSTED_PROXIES, on the same database."""
    return _url("E2E_ES256_URL", "ES256 deployment")


@pytest.fixture
def es256_api(es256_url):
    a = Api(es256_url)
    yield a
    a.close()


@pytest.fixture(scope="session")
def rate_limited_url() -> str:
    return _url("E2E_RATE_LIMITED_URL", "nginx with IP_RATE_LIMIT")


@pytest.fixture(scope="session")
def auth_request_url() -> str:
    return _url("E2E_AUTH_REQUEST_URL", "auth_request example")


@pytest.fixture(scope="session")
def authd_bin() -> str:
    path = os.environ.get("E2E_AUTHD_BIN")
    if not path:
        pytest.skip("E2E_AUTHD_BIN is not set: the operator commands cannot be run")
    return path


@pytest.fixture(scope="session")
def operator_env(authd_bin, db_settings) -> dict:
    """The environment `authd user …` runs with: the stack's database, none
    of the caller's MYSQL_* or E2E_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL_", "E2E_"))}
    env.update(MYSQL_HOST=db_settings["host"], MYSQL_PORT=str(db_settings["port"]),
               MYSQL_USER=db_settings["user"], MYSQL_PASSWORD=db_settings["password"],
               MYSQL_DB=db_settings["database"])
    return env


@pytest.fixture(scope="session")
def admin_key_cli(authd_bin, operator_env):
    """Runs `authd admin-key ARGS...`; returns the CompletedProcess."""
    import subprocess

    def run(*args: str) -> "subprocess.CompletedProcess":
        return subprocess.run([authd_bin, "admin-key", *args], env=operator_env,
                              capture_output=True, text=True, timeout=30)
    return run


@pytest.fixture(scope="session")
def make_admin_key(admin_key_cli):
    """Factory: `authd admin-key create` with these scopes; the key it printed."""
    import secrets as _secrets

    def make(scopes: str = "users:read,users:write", name: str | None = None) -> AdminKey:
        name = name or f"e2e-{_secrets.token_hex(5)}"
        p = admin_key_cli("create", "--name", name, "--scopes", scopes)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert len(lines) == 1, f"the key alone on one line of stdout, got {p.stdout!r}"
        remember(lines[0])  # the log and table scans look for it
        return AdminKey(name=name, key=lines[0], scopes=scopes)
    return make


@pytest.fixture(scope="session")
def admin_key(make_admin_key) -> AdminKey:
    """One key with both scopes for the whole session."""
    return make_admin_key()


@pytest.fixture(scope="session")
def client_ip(log_files) -> str:
    """The address the server sees for this suite's requests (127.0.0.1 on
    loopback; a gateway address when a container network is in between):
    read back from the worker's request line of a marked request."""
    from authd_e2e import Api, log_records, request_id
    rid = request_id("whoami")
    a = Api()
    try:
        assert a.get("/health", headers={"X-Request-ID": rid}).status_code == 200
    finally:
        a.close()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for rec in log_records(log_files):
            if rec.get("request_id") == rid and rec.get("event") == "request" and rec.get("ip"):
                return rec["ip"]
        time.sleep(0.05)
    pytest.fail(f"no request line for {rid} in {log_files}")


@pytest.fixture(scope="session")
def mail_dir() -> str:
    d = os.environ.get("E2E_MAIL_DIR")
    if not d:
        pytest.skip("E2E_MAIL_DIR is not set: no access to the captured messages")
    if not os.environ.get("E2E_PUBLIC_BASE_URL"):
        pytest.skip("E2E_PUBLIC_BASE_URL is not set: the links cannot be checked")
    return d


@pytest.fixture(scope="session")
def smtp_control() -> tuple[str, str]:
    return _command("E2E_SMTP_STOP_CMD"), _command("E2E_SMTP_START_CMD")


@pytest.fixture(scope="session")
def mailer_pid_file() -> str:
    f = os.environ.get("E2E_MAILER_PID_FILE")
    if not f:
        pytest.skip("E2E_MAILER_PID_FILE is not set: the mailer cannot be killed")
    return f


@pytest.fixture(scope="session")
def tls_doors() -> dict:
    names = ["E2E_HTTP_URL", "E2E_HTTPS_URL", "E2E_CA_BUNDLE"]
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        pytest.skip(f"no TLS checks: {', '.join(missing)} not set")
    return {"http": os.environ["E2E_HTTP_URL"], "https": os.environ["E2E_HTTPS_URL"],
            "ca": os.environ["E2E_CA_BUNDLE"]}
