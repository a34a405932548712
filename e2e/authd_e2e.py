"""Helpers of the end-to-end suite: an HTTP client, contract assertions,
generators of unique emails and strong passwords, JWT decoding and forging.

Runs against any deployment: E2E_BASE_URL (default http://127.0.0.1:8080,
what `make run` serves). The optional E2E_* variables (see conftest.py) open
the checks that need access to the database, the logs or the secret key.
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import ssl
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from openapi_check import CONTRACT

BASE_URL = os.environ.get("E2E_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
# HTTPS: the CA that signed the server's certificate (verification stays
# on; without it, the system's store).
CA_BUNDLE = os.environ.get("E2E_CA_BUNDLE") or True
# Contract defaults; a deployment that changed them says so here.
TOKEN_TTL = int(os.environ.get("E2E_TOKEN_EXPIRY", "900"))
REFRESH_EXPIRES_IN = int(os.environ.get("E2E_REFRESH_EXPIRES_IN", str(14 * 86400)))
JWT_ISSUER = os.environ.get("E2E_JWT_ISSUER", "auth")
JWT_AUDIENCE = os.environ.get("E2E_JWT_AUDIENCE", "auth")

@dataclasses.dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


def raw_exchange(request: bytes, base_url: str = BASE_URL, timeout: float = 10,
                 cafile: str | None = None) -> RawAnswer:
    """Send bytes no HTTP library would (a broken request line, a missing
    Host, an oversized header) and read the answer until nginx closes.
    HTTPS is verified against `cafile`, else the stack's CA."""
    url = urlsplit(base_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    sock = socket.create_connection((url.hostname, port), timeout=timeout)
    if url.scheme == "https":
        if cafile is None and CA_BUNDLE is not True:
            cafile = CA_BUNDLE
        ctx = ssl.create_default_context(cafile=cafile)
        sock = ctx.wrap_socket(sock, server_hostname=url.hostname)
    with sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawAnswer(int(status_line.split(" ")[1]), headers, body)


REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
RFC3339_Z_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# Every password and token the session sends or receives that is unique
# enough to grep for (random parts): the log and database scans look for
# all of them. Weak dictionary passwords are not recorded (they could occur
# in a log by chance, e.g. "password" in a route name).
SECRETS: set[str] = set()


def remember(*values: str | None) -> None:
    for v in values:
        if v and len(v) >= 12:
            SECRETS.add(v)


# --- generators ------------------------------------------------------------------

WORDS = ["violet", "harbor", "lantern", "quartz", "meadow", "falcon", "copper", "juniper",
         "orbit", "saffron", "glacier", "tundra", "walnut", "ember", "sable", "cobalt"]


def strong_password() -> str:
    """Unique and far above zxcvbn score 3 (random hex in it)."""
    w1, w2 = secrets.choice(WORDS), secrets.choice(WORDS).capitalize()
    pw = f"{w1}-{secrets.token_hex(5)}-{w2}-{secrets.randbelow(90) + 10}"
    remember(pw)
    return pw


def unique_email(prefix: str = "e2e", domain: str = "example.com") -> str:
    return f"{prefix}-{secrets.token_hex(6)}@{domain}"


# --- HTTP ------------------------------------------------------------------------


class Throttled(AssertionError):
    pass


class _Session(requests.Session):
    """A requests.Session that verifies HTTPS against CA_BUNDLE even when
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment name another
    store (requests lets those override a Session's own `verify`)."""

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if CA_BUNDLE is not True and verify in (None, True):
            merged["verify"] = CA_BUNDLE
        return merged


class _SourceAddressAdapter(HTTPAdapter):
    """Connects from a chosen local address (127.0.0.x): on loopback every
    such address is a different client address for nginx."""

    def __init__(self, source: str, **kw: Any):
        self._source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        kw["source_address"] = (self._source, 0)
        super().init_poolmanager(*args, **kw)


class Api:
    """One requests.Session against BASE_URL; redirects are never followed.

    Every response is checked against the OpenAPI document (openapi_check):
    one it does not describe fails the test with what differs.

    A 429 fails the test at once with a clear message unless the Api was made
    with expect_throttling=True (the throttling tests): the other tests never
    provoke one, so it means the deployment limits this client's address
    (IP_RATE_LIMIT; the e2e stack runs with 0)."""

    def __init__(self, base_url: str = BASE_URL, expect_throttling: bool = False,
                 source_address: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.expect_throttling = expect_throttling
        self.s = _Session()
        self.s.hooks["response"].append(
            lambda r, *args, **kwargs: CONTRACT.check_requests_response(r))
        if source_address is not None:
            adapter = _SourceAddressAdapter(source_address)
            self.s.mount("http://", adapter)
            self.s.mount("https://", adapter)

    def close(self) -> None:
        self.s.close()

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 30)
        # Per request: a Session's own `verify` loses to REQUESTS_CA_BUNDLE /
        # CURL_CA_BUNDLE in the environment (requests' merge order).
        kw.setdefault("verify", CA_BUNDLE)
        r = self.s.request(method, self.base_url + path, **kw)
        if r.status_code == 429 and not self.expect_throttling:
            raise Throttled(
                f"{method} {path} was throttled (429 {r.text[:200]}): the deployment limits this "
                "address; run the suite against one with IP_RATE_LIMIT=0 (scripts/e2e-stack.sh does)")
        return r

    def get(self, path: str, token: str | None = None, headers: dict | None = None,
            **kw: Any) -> requests.Response:
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        return self.request("GET", path, headers=h, **kw)

    def post_json(self, path: str, body: Any, headers: dict | None = None,
                  **kw: Any) -> requests.Response:
        """POST a JSON document (UTF-8, non-ASCII left as is)."""
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return self.request("POST", path, data=data, headers=h, **kw)

    def post_raw(self, path: str, data: bytes | str,
                 content_type: str | None = "application/json",
                 headers: dict | None = None, **kw: Any) -> requests.Response:
        """POST exact bytes; content_type=None sends no Content-Type at all."""
        h = {}
        if content_type is not None:
            h["Content-Type"] = content_type
        h.update(headers or {})
        if isinstance(data, str):
            data = data.encode("utf-8")
        return self.request("POST", path, data=data, headers=h, **kw)

    # The three first-slice use cases.
    def register(self, email: str, password: str, **kw: Any) -> requests.Response:
        return self.post_json("/auth/register", {"email": email, "password": password}, **kw)

    def login(self, email: str, password: str, **kw: Any) -> requests.Response:
        r = self.post_json("/auth/login", {"email": email, "password": password}, **kw)
        remember_tokens(r)
        return r

    def change_password(self, email: str, current: str, new: str, **kw: Any) -> requests.Response:
        r = self.post_json("/auth/password", {"email": email, "current_password": current,
                                              "new_password": new}, **kw)
        remember_tokens(r)
        return r

    def me(self, token: str | None, **kw: Any) -> requests.Response:
        return self.get("/auth/me", token=token, **kw)

    # The token lifecycle.
    def refresh(self, refresh_token: Any, **kw: Any) -> requests.Response:
        r = self.post_json("/auth/refresh", {"refresh_token": refresh_token}, **kw)
        remember_tokens(r)
        return r

    def logout(self, token: str | None, body: Any = None, headers: dict | None = None,
               **kw: Any) -> requests.Response:
        """POST /auth/logout: no body at all (body=None), or a JSON body."""
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if body is None:
            return self.request("POST", "/auth/logout", headers=h, **kw)
        return self.post_json("/auth/logout", body, headers=h, **kw)

    def sessions(self, token: str | None, **kw: Any) -> requests.Response:
        return self.get("/auth/sessions", token=token, **kw)

    def end_session(self, token: str | None, session_id: str, **kw: Any) -> requests.Response:
        h = dict(kw.pop("headers", None) or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        return self.request("DELETE", f"/auth/sessions/{session_id}", headers=h, **kw)

    def verify(self, token: str | None, **kw: Any) -> requests.Response:
        return self.get("/auth/verify", token=token, **kw)

    # Emails with links.
    def verify_email(self, token: str, **kw: Any) -> requests.Response:
        return self.post_json("/auth/email/verify", {"token": token}, **kw)

    def resend(self, email: str, **kw: Any) -> requests.Response:
        return self.post_json("/auth/email/resend", {"email": email}, **kw)

    def forgot(self, email: str, **kw: Any) -> requests.Response:
        return self.post_json("/auth/password/forgot", {"email": email}, **kw)

    def reset(self, token: str, new_password: str, **kw: Any) -> requests.Response:
        r = self.post_json("/auth/password/reset", {"token": token, "new_password": new_password},
                           **kw)
        remember_tokens(r)
        return r


    def close_account(self, token: str | None, password: str, code: str | None = None,
                      **kw: Any) -> requests.Response:
        """DELETE /auth/me with the password (and the code)."""
        h = dict(kw.pop("headers", None) or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        h["Content-Type"] = "application/json"
        body = {"password": password}
        if code is not None:
            body["code"] = code
        return self.request("DELETE", "/auth/me", data=json.dumps(body).encode(), headers=h, **kw)

    # The admin API (an admin key, not an access token).
    def admin(self, method: str, path: str, key: str | None, body: Any = None,
              **kw: Any) -> requests.Response:
        h = dict(kw.pop("headers", None) or {})
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        if body is not None:
            h["Content-Type"] = "application/json"
            kw["data"] = json.dumps(body).encode()
        return self.request(method, path, headers=h, **kw)


def remember_tokens(r: requests.Response) -> None:
    if r.status_code == 200 and r.headers.get("Content-Type", "").startswith("application/json"):
        try:
            body = r.json()
        except ValueError:
            return
        if isinstance(body, dict):
            remember(body.get("access_token"), body.get("refresh_token"))
            at = body.get("access_token")
            if isinstance(at, str) and at.count(".") == 2:
                remember(at.rsplit(".", 1)[1])  # the signature alone


# --- assertions ------------------------------------------------------------------


def media_type(r: requests.Response) -> str:
    return r.headers.get("Content-Type", "").split(";")[0].strip().lower()


def request_ids(r: requests.Response) -> list[str]:
    return r.raw.headers.getlist("X-Request-ID")


def assert_request_id(r: requests.Response, sent: str | None = None) -> str:
    ids = request_ids(r)
    assert len(ids) == 1, f"want exactly one X-Request-ID, got {ids}"
    rid = ids[0]
    assert REQUEST_ID_RE.match(rid), f"X-Request-ID {rid!r} does not match the pattern"
    if sent is not None:
        assert rid == sent, f"X-Request-ID {rid!r}, sent {sent!r}"
    return rid


def server_lines(request_id: str, limit: int = 12) -> list[str]:
    """The stack's log lines of one request (E2E_LOG_FILES, when set): what the
    server did and decided, for the message of a failed assertion. Logs hold
    no secret (the audit tests check that), so they may be printed."""
    lines: list[str] = []
    for path in filter(None, os.environ.get("E2E_LOG_FILES", "").split(":")):
        with contextlib.suppress(OSError), open(path, encoding="utf-8", errors="replace") as f:
            lines += [line.rstrip("\n")[:400] for line in f if request_id in line]
    return lines[-limit:]


def describe(r: requests.Response) -> str:
    """The request and its answer; on a stack whose logs the suite reads, the
    server's own lines for it too (a failure in CI is explained without them)."""
    out = f"{r.request.method} {r.request.path_url} -> {r.status_code} {r.text[:300]!r}"
    ids = request_ids(r) if r.raw is not None else []
    lines = server_lines(ids[0]) if len(ids) == 1 and REQUEST_ID_RE.match(ids[0]) else []
    return out + "".join(f"\n  server: {line}" for line in lines)


def assert_problem(r: requests.Response, status: int, code: str,
                   field: str | None = None) -> dict:
    """An RFC 9457 problem document as API.md shapes it."""
    assert r.status_code == status, describe(r)
    assert media_type(r) == "application/problem+json", \
        f"Content-Type {r.headers.get('Content-Type')!r}: {describe(r)}"
    body = r.json()
    assert isinstance(body, dict), describe(r)
    for key in ("type", "title", "detail", "code", "request_id"):
        assert isinstance(body.get(key), str), f"problem member {key!r} missing: {body}"
    assert body["title"] and body["detail"], body
    assert body.get("status") == status, body
    assert body["code"] == code, f"code {body['code']!r} != {code!r}: {body}"
    assert body["request_id"] == assert_request_id(r), body
    if field is not None:
        assert body.get("field") == field, f"field {body.get('field')!r} != {field!r}: {body}"
    return body


def assert_bearer_401(r: requests.Response, sent: bool = True) -> dict:
    """401 invalid_token for a bearer token, with RFC 6750's challenge."""
    body = assert_problem(r, 401, "invalid_token")
    want = 'Bearer realm="auth", error="invalid_token"' if sent else 'Bearer realm="auth"'
    assert r.headers.get("WWW-Authenticate") == want, \
        f"WWW-Authenticate {r.headers.get('WWW-Authenticate')!r}, want {want!r}: {describe(r)}"
    return body


def assert_no_body(r: requests.Response, status: int) -> None:
    """An answer without a body (204, /auth/verify's 401)."""
    assert r.status_code == status, describe(r)
    assert r.content == b"", f"want no body, got {r.content[:200]!r}"
    assert_request_id(r)


def assert_retry_after(r: requests.Response, at_most: int | None = None) -> int:
    """429 too_many_attempts with Retry-After in whole seconds >= 1, mirrored
    as retry_after in the body."""
    body = assert_problem(r, 429, "too_many_attempts")
    header = r.headers.get("Retry-After", "")
    assert header.isdigit() and int(header) >= 1, f"Retry-After {header!r}"
    assert body.get("retry_after") == int(header), body
    if at_most is not None:
        assert int(header) <= at_most, f"Retry-After {header} > {at_most}"
    return int(header)


def assert_json(r: requests.Response, status: int) -> dict:
    assert r.status_code == status, describe(r)
    assert media_type(r) == "application/json", f"Content-Type {r.headers.get('Content-Type')!r}"
    assert_request_id(r)
    body = r.json()
    assert isinstance(body, dict), body
    return body


def assert_uuid7(value: Any) -> None:
    assert isinstance(value, str), value
    u = uuid.UUID(value)
    assert str(u) == value.lower(), f"not a canonical UUID string: {value!r}"
    assert u.version == 7, f"{value} is UUID version {u.version}, want 7"


def assert_timestamp(value: Any) -> None:
    assert isinstance(value, str) and RFC3339_Z_RE.match(value), \
        f"{value!r} is not RFC 3339 UTC with second precision and Z"


def assert_token_answer(r: requests.Response, email: str, verified: bool = False) -> dict:
    """The login body (login, password change): fields, types, no-store."""
    body = assert_json(r, 200)
    cc = [v.strip().lower() for v in r.headers.get("Cache-Control", "").split(",")]
    assert "no-store" in cc, f"Cache-Control {r.headers.get('Cache-Control')!r}"
    assert isinstance(body.get("access_token"), str) and body["access_token"].count(".") == 2
    assert body.get("token_type") == "Bearer", body
    assert body.get("expires_in") == TOKEN_TTL, body
    assert isinstance(body.get("refresh_token"), str) and len(body["refresh_token"]) >= 20
    assert body.get("refresh_expires_in") == REFRESH_EXPIRES_IN, body
    user = body.get("user")
    assert isinstance(user, dict), body
    assert_uuid7(user.get("id"))
    assert user.get("email") == email, user
    assert_timestamp(user.get("created_at"))
    assert "email_verified_at" in user, user
    if verified:
        assert_timestamp(user["email_verified_at"])
    else:
        assert user["email_verified_at"] is None, user
    claims = decode_jwt(body["access_token"])[1]
    assert claims.get("email_verified") is verified, claims
    for secret_field in ("password", "password_hash"):
        assert secret_field not in user
    return body


# --- JWT -------------------------------------------------------------------------


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_jwt(token: str) -> tuple[dict, dict]:
    """Header and claims, not verified."""
    h, p, _ = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


def sign_jwt(header: dict, claims: dict, key: bytes | None, alg: str | None = None) -> str:
    """A compact JWS of exactly this header and these claims. alg is the
    HMAC used to sign (HS256/HS384/HS512); key=None gives an empty signature."""
    signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64url(json.dumps(claims, separators=(",", ":")).encode())
    if key is None:
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
              "HS512": hashlib.sha512}[alg or header["alg"]]
    sig = hmac.new(key, signing_input.encode(), digest).digest()
    return signing_input + "." + b64url(sig)


def now() -> int:
    return int(time.time())


# --- users -----------------------------------------------------------------------


@dataclasses.dataclass
class User:
    email: str
    password: str
    id: str
    created_at: str


@dataclasses.dataclass
class AdminKey:
    name: str
    key: str  # authd_admin_…, as `authd admin-key create` printed it
    scopes: str


@dataclasses.dataclass
class Session:
    user: User
    body: dict

    @property
    def access_token(self) -> str:
        return self.body["access_token"]

    @property
    def refresh_token(self) -> str:
        return self.body["refresh_token"]

    @property
    def header(self) -> dict:
        return decode_jwt(self.access_token)[0]

    @property
    def claims(self) -> dict:
        return decode_jwt(self.access_token)[1]


# --- the second factor -------------------------------------------------------------


def bearer(token: str | None) -> dict:
    """The Authorization header of an access token (none for None)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def start_setup(api: "Api", session: Session, password: str) -> requests.Response:
    return api.post_json("/auth/mfa/totp/setup", {"password": password},
                         headers=bearer(session.access_token))


def next_step_code(totp, not_step=None):
    """A code the server still accepts: the current step, or the one after
    `not_step` (already used) while that is within the one step of drift
    allowed; waits for the clock only when it is not."""
    step = int(time.time()) // 30
    if not_step is not None and step <= not_step:
        step = not_step + 1
        while step > int(time.time()) // 30 + 1:
            time.sleep(0.5)
    return totp.at(step * 30), step


# --- sessions in the database ------------------------------------------------------
# The lifetimes are hours and days: tests move a session's times back in the
# database (the app account of the stack) instead of waiting.


def uuid_bytes(value: str) -> bytes:
    return uuid.UUID(value).bytes


def age_session(db, session_id: str, seconds: int, *columns: str) -> None:
    """Moves the given DATETIME columns of a session `seconds` into the past."""
    allowed = {"created_at", "last_used_at", "expires_at", "auth_time", "rotated_at"}
    assert columns and set(columns) <= allowed, columns
    sets = ", ".join(f"{c} = {c} - INTERVAL %s SECOND" for c in columns)
    with db.cursor() as c:
        c.execute(f"UPDATE sessions SET {sets} WHERE id = %s",
                  (*([seconds] * len(columns)), uuid_bytes(session_id)))
        assert c.rowcount == 1, f"no session {session_id}"
    db.commit()


def set_session_time(db, session_id: str, column: str, seconds_from_now: int) -> None:
    assert column in {"last_used_at", "expires_at", "auth_time", "rotated_at"}, column
    with db.cursor() as c:
        c.execute(f"UPDATE sessions SET {column} = UTC_TIMESTAMP() + INTERVAL %s SECOND"
                  " WHERE id = %s", (seconds_from_now, uuid_bytes(session_id)))
        assert c.rowcount == 1, f"no session {session_id}"
    db.commit()


def session_row(db, session_id: str) -> dict:
    with db.cursor() as c:
        c.execute("SELECT revoked_at, last_used_at, rotated_at, auth_time, expires_at"
                  " FROM sessions WHERE id = %s", (uuid_bytes(session_id),))
        row = c.fetchone()
    db.commit()  # a fresh snapshot next time
    assert row is not None, f"no session {session_id}"
    return dict(zip(("revoked_at", "last_used_at", "rotated_at", "auth_time", "expires_at"), row))


# --- logs -------------------------------------------------------------------------


def log_records(files: list[str]) -> list[dict]:
    """Every JSON line of the given logs."""
    out = []
    for f in files:
        with open(f, "rb") as fh:
            for line in fh:
                line = line.strip()
                if line.startswith(b"{"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    return out


def audit_lines(files: list[str], request_id: str, event: str | None = None,
                wait_s: float = 2.0) -> list[dict]:
    """The audit lines of one request (optionally of one event), waiting a
    little for the worker to have written them."""
    deadline = time.monotonic() + wait_s
    while True:
        found = [r for r in log_records(files)
                 if r.get("audit") is True and r.get("request_id") == request_id
                 and (event is None or r.get("event") == event)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def request_id(prefix: str = "e2e") -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def api_from(source_address: str, log_files: list[str], **kw: Any) -> "Api":
    """An Api connecting from `source_address` (127.x.y.z), once shown that
    the server sees that address as the client's; skips the test otherwise
    (a NAT between, as with a container network: every source arrives as
    the gateway, or cannot connect at all)."""
    import pytest
    a = Api(source_address=source_address, **kw)
    rid = request_id("source")
    try:
        ok = a.get("/health", headers={"X-Request-ID": rid}, timeout=3).status_code == 200
    except requests.RequestException:
        ok = False
    seen = None
    if ok:
        deadline = time.monotonic() + 2
        while seen is None and time.monotonic() < deadline:
            seen = next((r.get("ip") for r in log_records(log_files)
                         if r.get("request_id") == rid and r.get("event") == "request"), None)
            time.sleep(0.05)
    if seen != source_address:
        a.close()
        pytest.skip(f"requests from {source_address} reach the server as {seen or 'nothing'}: "
                    "local source addresses are not distinct clients here")
    return a


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def own_nginx(settings: dict[str, str], patch=None):
    """A second nginx rendered from nginx/authd.conf.template with `settings`
    (render.sh's inputs; FCGI_TARGET defaults to the stack's pool) on free
    ports, in front of whatever FCGI_TARGET names; `patch(conf_text)` may
    change the rendered file (a test-only location). Yields its base URLs
    ({"http": …, "https": … when TLS_CERT is given}). Needs E2E_ROOT and
    E2E_FCGI_SOCKET (scripts/e2e-stack.sh sets both); skips otherwise."""
    import subprocess
    import tempfile
    import pytest
    root = os.environ.get("E2E_ROOT")
    sock = os.environ.get("E2E_FCGI_SOCKET")
    if not root or not sock:
        pytest.skip("E2E_ROOT / E2E_FCGI_SOCKET not set: cannot start a second nginx")
    http_port = free_port()
    https_port = free_port()
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, HTTP_PORT=str(http_port), HTTPS_PORT=str(https_port),
                   IP_RATE_LIMIT="0", NGINX_PREFIX=d, FCGI_TARGET=sock,
                   NGINX_LISTEN_ADDR="127.0.0.1", NGINX_ACCESS_LOG=f"{d}/access.log",
                   NGINX_ERROR_LOG=f"{d}/error.log")
        env.pop("TLS_CERT", None)
        env.pop("TLS_KEY", None)
        env.update(settings)
        subprocess.run([f"{root}/nginx/render.sh", f"{d}/nginx.conf"], env=env, check=True)
        if patch is not None:
            with open(f"{d}/nginx.conf", encoding="utf-8") as f:
                text = patch(f.read())
            with open(f"{d}/nginx.conf", "w", encoding="utf-8") as f:
                f.write(text)
        nginx = subprocess.Popen(["nginx", "-e", f"{d}/error.log", "-p", d, "-c",
                                  f"{d}/nginx.conf"], start_new_session=True)
        try:
            urls = {"http": f"http://127.0.0.1:{http_port}"}
            if settings.get("TLS_CERT"):
                urls["https"] = f"https://localhost:{https_port}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", http_port), timeout=1).close()
                    break
                except OSError:
                    assert nginx.poll() is None, "the second nginx exited at start"
                    assert time.monotonic() < deadline, "the second nginx did not start"
                    time.sleep(0.1)
            yield urls
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
