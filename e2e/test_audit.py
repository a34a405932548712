"""Audit log (issue: every authentication event is one JSON line with time
(UTC), client address, user id when known, outcome and request id, never a
secret), read from the worker log of the stack (E2E_LOG_FILES)."""
import re

import pytest

from authd_e2e import (SECRETS, Api, age_session, api_from, audit_lines, decode_jwt, request_id,
                       strong_password)

TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


# The address the server sees for us (set by the autouse fixture below).
CLIENT_IP = ["127.0.0.1"]


@pytest.fixture(autouse=True)
def _client_ip(client_ip):
    CLIENT_IP[0] = client_ip


@pytest.fixture
def worker_logs(log_files):
    return [f for f in log_files if "worker" in f.rsplit("/", 1)[-1]]


def one_line(worker_logs, rid: str, event: str, outcome: str, ip: str | None = None,
             user_id: str | None = None, secrets_: tuple = ()) -> dict:
    lines = audit_lines(worker_logs, rid, event)
    assert len(lines) == 1, f"{event}/{rid}: want one audit line, got {lines}"
    line = lines[0]
    assert TS_RE.match(line.get("ts", "")), line
    assert line["request_id"] == rid
    assert line.get("outcome") == outcome, line
    assert line.get("ip") == (ip or CLIENT_IP[0]), line
    if user_id is not None:
        assert line.get("user_id") == user_id, line
    text = repr(line)
    for s in set(secrets_) | SECRETS:
        assert s not in text, f"{event}: a secret in the audit line"
    return line


def test_each_authentication_event_is_one_audit_line(api, user, make_session, worker_logs, db):
    pw = user.password
    rid = request_id("audit-login")
    r = api.login(user.email, pw, headers={"X-Request-ID": rid})
    assert r.status_code == 200
    body = r.json()
    line = one_line(worker_logs, rid, "login", "ok", user_id=user.id, secrets_=(pw,))
    assert line.get("session_id")

    rid = request_id("audit-failed")
    wrong = strong_password()
    assert api.login(user.email, wrong, headers={"X-Request-ID": rid}).status_code == 401
    one_line(worker_logs, rid, "login", "failed", user_id=user.id, secrets_=(wrong,))

    rid = request_id("audit-refresh")
    r = api.refresh(body["refresh_token"], headers={"X-Request-ID": rid})
    assert r.status_code == 200
    rotated = r.json()
    one_line(worker_logs, rid, "refresh", "ok", user_id=user.id,
             secrets_=(body["refresh_token"], rotated["refresh_token"]))

    # Reuse: the spent token again, after the grace window.
    sid = decode_jwt(body["access_token"])[1]["sid"]
    age_session(db, sid, 11, "rotated_at")
    rid = request_id("audit-reuse")
    assert api.refresh(body["refresh_token"], headers={"X-Request-ID": rid}).status_code == 401
    line = one_line(worker_logs, rid, "refresh_reuse_detected", "session_revoked",
                    user_id=user.id, secrets_=(body["refresh_token"],))
    assert line.get("session_id") == sid

    s = make_session(user)
    rid = request_id("audit-logout")
    assert api.logout(s.access_token, headers={"X-Request-ID": rid}).status_code == 204
    one_line(worker_logs, rid, "logout", "ok", user_id=user.id, secrets_=(s.access_token,))

    mine, other = make_session(user), make_session(user)
    rid = request_id("audit-ended")
    r = api.end_session(mine.access_token, other.claims["sid"], headers={"X-Request-ID": rid})
    assert r.status_code == 204
    line = one_line(worker_logs, rid, "session_ended", "ok", user_id=user.id)
    assert line.get("session_id") == other.claims["sid"]

    rid = request_id("audit-password")
    new_pw = strong_password()
    r = api.change_password(user.email, pw, new_pw, headers={"X-Request-ID": rid})
    assert r.status_code == 200
    line = one_line(worker_logs, rid, "password_change", "ok", user_id=user.id,
                    secrets_=(pw, new_pw))
    assert line.get("sessions_ended", 0) >= 1


def test_throttled_attempts_are_audited(make_user, worker_logs, log_files):
    user = make_user()
    a = api_from("127.5.0.3", log_files, expect_throttling=True)
    try:
        for _ in range(6):
            assert a.login(user.email, "wrong-audit").status_code == 401
        rid = request_id("audit-throttled")
        assert a.login(user.email, user.password, headers={"X-Request-ID": rid}).status_code == 429
        line = one_line(worker_logs, rid, "login", "throttled", ip="127.5.0.3",
                        secrets_=(user.password,))
        assert line.get("retry_after", 0) >= 1
    finally:
        a.close()


def test_passkey_ceremonies_are_audited(api, session, worker_logs):
    from passkeys_e2e import login_options, options_for, register, relying_party
    from webauthn_forge import SoftAuthenticator, Spoil
    _, origin = relying_party()
    uid = session.user.id
    a = SoftAuthenticator()
    rid = request_id("audit-pk-options")
    r = api.post_json("/auth/passkeys/register/options", {"password": session.user.password},
                      headers={"X-Request-ID": rid,
                               "Authorization": f"Bearer {session.access_token}"})
    assert r.status_code == 200
    one_line(worker_logs, rid, "passkey_registration_options", "ok", user_id=uid,
             secrets_=(session.user.password,))
    options = r.json()["publicKey"]

    rid = request_id("audit-pk-register")
    r = api.post_json("/auth/passkeys/register", {"credential": a.create(options, origin)},
                      headers={"X-Request-ID": rid,
                               "Authorization": f"Bearer {session.access_token}"})
    assert r.status_code == 201
    passkey_id = r.json()["id"]
    assert one_line(worker_logs, rid, "passkey_registered", "ok",
                    user_id=uid)["passkey_id"] == passkey_id

    rid = request_id("audit-pk-invalid")
    spoiled = a.create(options_for(api, session), origin, Spoil(origin="https://evil.example"))
    r = register(api, session.access_token, spoiled, headers={"X-Request-ID": rid})
    assert r.status_code == 422
    assert one_line(worker_logs, rid, "passkey_registration", "invalid",
                    user_id=uid)["step"] == "origin"

    rid = request_id("audit-pk-login")
    r = api.post_json("/auth/passkeys/login",
                      {"credential": a.get(login_options(api), origin)},
                      headers={"X-Request-ID": rid})
    assert r.status_code == 200
    line = one_line(worker_logs, rid, "login", "ok", user_id=uid)
    assert line["method"] == "passkey" and line["passkey_id"] == passkey_id

    rid = request_id("audit-pk-failed")
    r = api.post_json("/auth/passkeys/login",
                      {"credential": a.get(login_options(api), origin,
                                           Spoil(bad_signature=True))},
                      headers={"X-Request-ID": rid})
    assert r.status_code == 401
    assert one_line(worker_logs, rid, "passkey_login", "failed",
                    user_id=uid)["step"] == "signature"

    rid = request_id("audit-pk-unknown")
    stranger = SoftAuthenticator()
    r = api.post_json("/auth/passkeys/login",
                      {"credential": stranger.get(login_options(api), origin, user_handle=None)},
                      headers={"X-Request-ID": rid})
    assert r.status_code == 401
    one_line(worker_logs, rid, "passkey_login", "unknown_credential")

    rid = request_id("audit-pk-removed")
    r = api.request("DELETE", f"/auth/passkeys/{passkey_id}",
                    headers={"X-Request-ID": rid,
                             "Authorization": f"Bearer {session.access_token}"})
    assert r.status_code == 204
    assert one_line(worker_logs, rid, "passkey_removed", "ok",
                    user_id=uid)["passkey_id"] == passkey_id
