"""Findings of the outside review (issue 17) that show through the API, each
against the real stack: /auth/verify's require_amr (2), the verified-address
claim and header (3), a reset clearing factors enrolled while the address was
unverified (6), the FastCGI door (7), the mail request queue under a flood
(13). The rest are in test_nginx_headers.py (9), test_ipv6_keys.py (12), the
unit tests (1, 8, 10, 11, 14, 15, 16) and the store tests (4, 5, 13)."""
import json
import os
import re
import socket
import stat
import struct
import threading
import time

import pytest

from authd_e2e import (Api, assert_json, assert_no_body, assert_problem, assert_token_answer,
                       bearer, decode_jwt, next_step_code, remember, start_setup, unique_email)
from mail_capture import report, reset_token, verification_token


# --- finding 2: require_amr ------------------------------------------------------------

def otp_session(api, enrolled_user):
    user, totp, codes, s, step = enrolled_user
    body = api.login(user.email, user.password).json()
    code, step = next_step_code(totp, step)
    r = api.post_json("/auth/mfa/verify", {"mfa_token": body["mfa_token"], "code": code})
    return assert_json(r, 200)["access_token"]


def test_finding_02_another_parameter_in_front_does_not_open_the_door(api, session):
    for query in ("x=1&require_amr=otp", "require_amr=otp&x=1", "require_amr=otp,hwk,swk"):
        assert_no_body(api.get(f"/auth/verify?{query}", token=session.access_token), 403)
    assert api.get("/auth/verify?x=1", token=session.access_token).status_code == 204


def test_finding_02_the_documented_list_admits_a_second_factor(api, enrolled):
    token = otp_session(api, enrolled)
    for query in ("require_amr=otp,hwk,swk", "require_amr=hwk,otp", "x=1&require_amr=otp",
                  "require_amr=otp%2Chwk"):
        r = api.get(f"/auth/verify?{query}", token=token)
        assert r.status_code == 204, (query, r.status_code)
        assert r.headers["X-Auth-AMR"] == "pwd,otp"
    for query in ("require_amr=otp&require_amr=otp", "require_amr=", "require_amr=otp,",
                  "require_amr=%zz", "require_amr"):
        assert_no_body(api.get(f"/auth/verify?{query}", token=token), 403)


def test_finding_02_the_auth_request_example_admits_any_second_factor(auth_request_url, api,
                                                                        enrolled):
    token = otp_session(api, enrolled)
    gate = Api(auth_request_url)
    try:
        r = gate.get("/app-otp/x", token=token)
        assert r.status_code == 200, r.text
        assert json.loads(r.text)["x_auth_amr"] == "pwd,otp"
    finally:
        gate.close()


# --- finding 3: email_verified ------------------------------------------------------------

@pytest.mark.usefixtures("mail_dir")
def test_finding_03_the_verified_address_is_asserted_only_once_proven(api, user, auth_request_url):
    first = api.login(user.email, user.password)
    assert decode_jwt(first.json()["access_token"])[1]["email_verified"] is False
    v = api.verify(first.json()["access_token"])
    assert v.status_code == 204 and v.headers["X-Auth-Email-Verified"] == "false"
    gate = Api(auth_request_url)
    try:
        seen = json.loads(gate.get("/app/x", token=first.json()["access_token"]).text)
        assert seen["x_auth_email"] == user.email and seen["x_auth_email_verified"] == "false"
        spoofed = gate.get("/app/x", token=first.json()["access_token"],
                           headers={"X-Auth-Email-Verified": "true"})
        assert json.loads(spoofed.text)["x_auth_email_verified"] == "false", \
            "the client's own header never reaches the service"

        assert_json(api.verify_email(verification_token(user.email)), 200)
        after = api.login(user.email, user.password)
        assert_token_answer(after, user.email, verified=True)
        v = api.verify(after.json()["access_token"])
        assert v.headers["X-Auth-Email-Verified"] == "true"
        seen = json.loads(gate.get("/app/x", token=after.json()["access_token"]).text)
        assert seen["x_auth_email_verified"] == "true"
        # A token is what was true when it was issued: the older one still says false.
        assert api.verify(first.json()["access_token"]).headers["X-Auth-Email-Verified"] == "false"
    finally:
        gate.close()


# --- finding 6: a reset removes factors enrolled while unverified ----------------------------

@pytest.mark.usefixtures("mail_dir")
def test_finding_06_a_squatters_totp_does_not_lock_the_owner_out(api, enrolled):
    squatted, totp, codes, s, step = enrolled  # enrolled while the address was unverified
    assert api.login(squatted.email, squatted.password).json()["code"] == "mfa_required"
    # The owner, from the mailbox.
    assert api.forgot(squatted.email).status_code == 202
    owners = "owner-" + squatted.password[::-1]
    remember(owners)
    r = api.reset(reset_token(squatted.email), owners)
    body = assert_token_answer(r, squatted.email, verified=True)
    me = assert_json(api.me(body["access_token"]), 200)
    assert me["mfa_enabled"] is False
    assert_token_answer(api.login(squatted.email, owners), squatted.email, verified=True)
    # The squatter's recovery codes went with the factor.
    assert_problem(api.post_json("/auth/mfa/recovery-codes", {"password": owners},
                                 headers=bearer(body["access_token"])), 409, "mfa_not_enabled")


@pytest.mark.usefixtures("mail_dir")
def test_finding_06_a_factor_enrolled_after_verifying_stays(api, user, make_session):
    assert_json(api.verify_email(verification_token(user.email)), 200)
    time.sleep(1.1)  # enrolled in a later second than the verification
    s = make_session(user)
    setup = assert_json(start_setup(api, s, user.password), 200)
    remember(setup["secret"])
    import pyotp
    totp = pyotp.TOTP(setup["secret"])
    code, _ = next_step_code(totp)
    assert_json(api.post_json("/auth/mfa/totp/confirm", {"code": code},
                              headers=bearer(s.access_token)), 200)
    assert api.forgot(user.email).status_code == 202
    new = "kept-" + user.password[::-1]
    remember(new)
    r = api.reset(reset_token(user.email), new)
    body = assert_problem(r, 403, "mfa_required")
    assert body.get("mfa_token")


# --- finding 7: the FastCGI door -------------------------------------------------------------

def fastcgi_get(path: str, params: dict[str, str]) -> tuple[dict[str, list[str]], bytes]:
    """One FastCGI request straight to the pool's socket, as a local process
    other than nginx could send it: (response headers, body)."""
    sock_path = os.environ.get("E2E_FCGI_SOCKET")
    if not sock_path:
        pytest.skip("E2E_FCGI_SOCKET is not set: the pool's socket is not reachable from here")

    def record(kind: int, content: bytes) -> bytes:
        return struct.pack("!BBHHBx", 1, kind, 1, len(content), 0) + content

    def length(n: int) -> bytes:
        return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)

    all_params = {"REQUEST_METHOD": "GET", "DOCUMENT_URI": path, "REQUEST_URI": path,
                  "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1", **params}
    blob = b"".join(length(len(k)) + length(len(v.encode())) + k.encode() + v.encode()
                    for k, v in all_params.items())
    message = (record(1, struct.pack("!HB5x", 1, 0)) + record(4, blob) + record(4, b"")
               + record(5, b""))
    out = b""
    # A unix socket (the single-host stack) or host:port (a pool on another
    # host, as make cluster-test runs them).
    if sock_path.startswith("/"):
        family, address = socket.AF_UNIX, sock_path
    else:
        host, _, port = sock_path.rpartition(":")
        family, address = socket.AF_INET, (host, int(port))
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(address)
        s.sendall(message)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    while len(data) >= 8:
        _, kind, _, n, pad = struct.unpack("!BBHHB", data[:7])
        if kind == 6:
            out += data[8:8 + n]
        data = data[8 + n + pad:]
    head, _, body = out.partition(b"\r\n\r\n")
    headers: dict[str, list[str]] = {}
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return headers, body


def test_finding_07_the_pool_socket_is_not_open_to_every_local_user():
    sock_path = os.environ.get("E2E_FCGI_SOCKET")
    if not sock_path:
        pytest.skip("E2E_FCGI_SOCKET is not set")
    if not sock_path.startswith("/"):
        pytest.skip("the pool listens on TCP (host:port): no file mode to check; a TCP pool is "
                    "kept off every network but nginx's (README)")
    mode = stat.S_IMODE(os.stat(sock_path).st_mode)
    assert mode == 0o660, oct(mode)


def test_finding_07_the_worker_judges_the_request_id_itself():
    headers, _ = fastcgi_get("/health", {"HTTP_X_REQUEST_ID": "x\r\nSet-Cookie: injected=1"})
    assert "set-cookie" not in headers, headers
    [rid] = headers["x-request-id"]
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", rid), rid
    headers, _ = fastcgi_get("/health", {"HTTP_X_REQUEST_ID": "mine-1.2_3"})
    assert headers["x-request-id"] == ["mine-1.2_3"]


# --- finding 13: the mail request queue under a flood ------------------------------------------

@pytest.mark.once
@pytest.mark.usefixtures("mail_dir")
def test_finding_13_a_forgot_flood_costs_one_pending_request(api, make_user, db_settings):
    victim, bystander = make_user(), make_user()
    flood = 400
    peak = 0
    done = threading.Event()

    def watch():
        nonlocal peak
        import pymysql
        conn = pymysql.connect(**db_settings, autocommit=True, connect_timeout=5)
        try:
            while not done.is_set():
                with conn.cursor() as c:
                    c.execute("SELECT COUNT(*) FROM mail_requests WHERE email = %s",
                              (victim.email.encode(),))
                    peak = max(peak, c.fetchone()[0])
                time.sleep(0.01)
        finally:
            conn.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    try:
        lock = threading.Lock()
        sent = [0]

        def flood_some():
            a = Api()
            try:
                while True:
                    with lock:
                        if sent[0] >= flood:
                            return
                        sent[0] += 1
                    assert a.forgot(victim.email).status_code == 202
            finally:
                a.close()

        threads = [threading.Thread(target=flood_some) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        flooded = time.monotonic() - started
        asked = time.monotonic()
        assert api.forgot(bystander.email).status_code == 202
        reset_token(bystander.email, timeout=30)
        waited = time.monotonic() - asked
    finally:
        done.set()
        watcher.join()
    report(f"forgot flood: {flood} requests for one address in {flooded:.1f} s; pending rows "
           f"for it at most {peak}; a bystander's reset mail arrived {waited:.2f} s after asking")
    assert peak <= 1, "one pending request per kind and address"
    assert waited < 10
