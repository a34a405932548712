"""POST /auth/refresh: rotation, the grace window, reuse detection, races
through nginx, the lifetimes of a session (API.md "POST /auth/refresh",
"Sessions and revocation")."""
import concurrent.futures
import os
import re
import secrets
import threading
import time

import pytest

from authd_e2e import (Api, age_session, assert_bearer_401, assert_problem, assert_token_answer,
                       b64url, b64url_decode, decode_jwt, describe, session_row,
                       set_session_time, strong_password, unique_email, uuid_bytes)

REFRESH_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{64}$")


def refreshed(api: Api, token: str, email: str) -> dict:
    r = api.refresh(token)
    return assert_token_answer(r, email)


def test_login_body_carries_an_opaque_refresh_token(session):
    assert REFRESH_TOKEN_RE.match(session.refresh_token), session.refresh_token
    assert session.body["refresh_expires_in"] == 14 * 86400
    # It names no user and is not a JWT.
    assert session.user.email.encode() not in b64url_decode(session.refresh_token)


def test_refresh_rotates_and_keeps_the_session(api, session):
    body = refreshed(api, session.refresh_token, session.user.email)
    assert body["refresh_token"] != session.refresh_token
    assert REFRESH_TOKEN_RE.match(body["refresh_token"])
    assert body["access_token"] != session.access_token
    _, claims = decode_jwt(body["access_token"])
    assert claims["sid"] == session.claims["sid"]
    assert claims["sub"] == session.user.id
    assert claims["auth_time"] == session.claims["auth_time"], "refresh keeps auth_time"
    assert claims["amr"] == ["pwd"]
    assert claims["jti"] != session.claims["jti"]
    assert body["user"]["id"] == session.user.id
    assert api.me(body["access_token"]).status_code == 200
    # The old access token lives on until it expires (same session).
    assert api.me(session.access_token).status_code == 200


def test_a_chain_of_rotations(api, session):
    token = session.refresh_token
    seen = {token}
    for _ in range(5):
        body = refreshed(api, token, session.user.email)
        token = body["refresh_token"]
        assert token not in seen
        seen.add(token)
    assert api.me(body["access_token"]).status_code == 200


def test_retry_inside_the_grace_window_gets_the_same_new_token(api, session):
    first = refreshed(api, session.refresh_token, session.user.email)
    retry = refreshed(api, session.refresh_token, session.user.email)
    assert retry["refresh_token"] == first["refresh_token"]
    assert decode_jwt(retry["access_token"])[1]["sid"] == session.claims["sid"]
    for access in (first["access_token"], retry["access_token"], session.access_token):
        assert api.me(access).status_code == 200, "nothing was revoked"
    # And the chain goes on from that token.
    refreshed(api, first["refresh_token"], session.user.email)


def test_retry_after_the_new_token_was_used_is_reuse(api, session):
    first = refreshed(api, session.refresh_token, session.user.email)
    second = refreshed(api, first["refresh_token"], session.user.email)
    assert_problem(api.refresh(session.refresh_token), 401, "invalid_token")
    # Reuse ended the whole session: every token of it.
    assert_problem(api.refresh(second["refresh_token"]), 401, "invalid_token")
    assert_bearer_401(api.me(second["access_token"]))
    assert_bearer_401(api.me(session.access_token))


def test_reuse_after_the_grace_window_ends_the_session(api, session, db):
    first = refreshed(api, session.refresh_token, session.user.email)
    sid = session.claims["sid"]
    age_session(db, sid, 11, "rotated_at")  # the rotation was 11 s ago
    r = api.refresh(session.refresh_token)
    assert_problem(r, 401, "invalid_token")
    assert "WWW-Authenticate" not in r.headers, "not a bearer token"
    assert session_row(db, sid)["revoked_at"] is not None
    assert_problem(api.refresh(first["refresh_token"]), 401, "invalid_token")
    assert_bearer_401(api.me(first["access_token"]))
    assert api.verify(first["access_token"]).status_code == 401


def test_reuse_of_an_older_token_in_the_history_ends_the_session(api, session, db):
    t1 = refreshed(api, session.refresh_token, session.user.email)
    t2 = refreshed(api, t1["refresh_token"], session.user.email)
    t3 = refreshed(api, t2["refresh_token"], session.user.email)
    assert_problem(api.refresh(session.refresh_token), 401, "invalid_token")  # two rotations ago
    assert_bearer_401(api.me(t3["access_token"]))
    assert session_row(db, session.claims["sid"])["revoked_at"] is not None


def test_grace_window_on_the_real_clock(es256_api):
    """The second pool runs with a short REFRESH_REUSE_GRACE: a retry at once
    gets the same token; the same retry after the window ends the session."""
    grace = int(os.environ.get("E2E_ES256_REFRESH_REUSE_GRACE", "2"))
    email, pw = unique_email("grace"), strong_password()
    assert es256_api.register(email, pw).status_code == 201
    login = es256_api.login(email, pw).json()
    first = es256_api.refresh(login["refresh_token"]).json()
    retry = es256_api.refresh(login["refresh_token"])
    assert retry.status_code == 200, describe(retry)
    assert retry.json()["refresh_token"] == first["refresh_token"]
    time.sleep(grace + 1.2)  # whole seconds on the server's clock: past the window
    assert_problem(es256_api.refresh(login["refresh_token"]), 401, "invalid_token")
    assert_problem(es256_api.refresh(first["refresh_token"]), 401, "invalid_token")
    assert es256_api.me(first["access_token"]).status_code == 401


def test_concurrent_refreshes_of_one_token_through_nginx(session, db):
    """Four clients present one refresh token at the same moment, ten times
    over: every one gets the same new token (one chain), nothing is revoked.
    A request the pool sheds (503, nothing written) is retried, as a client
    would: the retry is then just a later retry of the same refresh."""
    n = 4
    clients = [Api() for _ in range(n)]
    shed = 0

    def one(a: Api, token: str, barrier: threading.Barrier):
        nonlocal shed
        barrier.wait(timeout=30)
        for _ in range(50):
            r = a.refresh(token)
            if r.status_code != 503:
                return r
            shed += 1
            time.sleep(0.1)
        return r

    try:
        token = session.refresh_token
        for round_ in range(10):
            barrier = threading.Barrier(n)
            with concurrent.futures.ThreadPoolExecutor(n) as pool:
                answers = list(pool.map(lambda a: one(a, token, barrier), clients))
            for r in answers:
                assert r.status_code == 200, f"round {round_}: {describe(r)}"
            new_tokens = {r.json()["refresh_token"] for r in answers}
            assert len(new_tokens) == 1, f"round {round_}: {len(new_tokens)} chains minted"
            token = new_tokens.pop()
        print(f"\n10 rounds of {n} concurrent refreshes of one token: one chain; "
              f"{shed} requests shed with 503 and retried")
        sid = session.claims["sid"]
        assert session_row(db, sid)["revoked_at"] is None
        with db.cursor() as c:
            c.execute("SELECT COUNT(*) FROM refresh_token_history WHERE session_id = %s",
                      (uuid_bytes(sid),))
            assert c.fetchone()[0] == 10, "one rotation per round"
        db.commit()
        assert clients[0].refresh(token).status_code == 200
    finally:
        for a in clients:
            a.close()


@pytest.mark.parametrize("value", [
    "", "x", "A" * 64, "A" * 63 + "=", "not a token at all", "\u00e9" * 64,
])
def test_401_for_tokens_this_server_did_not_issue(api, value):
    r = api.refresh(value)
    assert_problem(r, 401, "invalid_token")
    assert "WWW-Authenticate" not in r.headers


def test_401_for_a_well_formed_token_of_a_live_session_without_revoking_it(api, session):
    raw = b64url_decode(session.refresh_token)
    forged = b64url(raw[:16] + secrets.token_bytes(32))  # right session id, wrong secret
    assert_problem(api.refresh(forged), 401, "invalid_token")
    assert api.me(session.access_token).status_code == 200, "a guess is not reuse"
    assert api.refresh(session.refresh_token).status_code == 200


def test_401_for_a_token_of_an_unknown_session(api):
    assert_problem(api.refresh(b64url(secrets.token_bytes(48))), 401, "invalid_token")


def test_401_for_an_access_token_as_refresh_token(api, session):
    assert_problem(api.refresh(session.access_token), 401, "invalid_token")


@pytest.mark.parametrize("body,code,field", [
    ({}, "missing_field", "refresh_token"),
    ({"refresh_token": None}, "invalid_field", "refresh_token"),
    ({"refresh_token": 12}, "invalid_field", "refresh_token"),
    ({"refresh_token": ["x"]}, "invalid_field", "refresh_token"),
])
def test_400_field_errors(api, body, code, field):
    assert_problem(api.post_json("/auth/refresh", body), 400, code, field)


def test_400_invalid_json_and_415(api):
    assert_problem(api.post_raw("/auth/refresh", b"{"), 400, "invalid_json")
    assert_problem(api.post_raw("/auth/refresh", b'{"refresh_token": "a", "refresh_token": "b"}'),
                   400, "invalid_json")
    assert_problem(api.post_raw("/auth/refresh", b"{}", content_type="text/plain"), 415,
                   "unsupported_media_type")


def test_405_for_get(api):
    r = api.get("/auth/refresh")
    assert_problem(r, 405, "method_not_allowed")
    assert "POST" in r.headers.get("Allow", "")


def test_refresh_of_a_logged_out_session_is_refused(api, session):
    assert api.logout(session.access_token).status_code == 204
    assert_problem(api.refresh(session.refresh_token), 401, "invalid_token")


def test_idle_session_is_over(api, session, db):
    sid = session.claims["sid"]
    age_session(db, sid, 14 * 86400 + 5, "last_used_at")
    assert_problem(api.refresh(session.refresh_token), 401, "invalid_token")
    assert_bearer_401(api.me(session.access_token))
    assert api.verify(session.access_token).status_code == 401


def test_session_past_its_absolute_lifetime_is_over(api, session, db):
    sid = session.claims["sid"]
    set_session_time(db, sid, "expires_at", -1)
    assert_problem(api.refresh(session.refresh_token), 401, "invalid_token")
    assert_bearer_401(api.me(session.access_token))
    assert api.verify(session.access_token).status_code == 401


def test_refresh_expires_in_is_what_is_left_of_the_absolute_lifetime(api, session, db):
    set_session_time(db, session.claims["sid"], "expires_at", 100)
    r = api.refresh(session.refresh_token)
    assert r.status_code == 200, describe(r)
    assert 95 <= r.json()["refresh_expires_in"] <= 100, r.json()["refresh_expires_in"]


def test_refresh_moves_last_used_at(api, session, db):
    sid = session.claims["sid"]
    age_session(db, sid, 3600, "last_used_at")
    before = session_row(db, sid)["last_used_at"]
    assert api.refresh(session.refresh_token).status_code == 200
    after = session_row(db, sid)["last_used_at"]
    assert (after - before).total_seconds() >= 3599
    # A bearer request does not move it.
    assert api.me(session.access_token).status_code == 200
    assert session_row(db, sid)["last_used_at"] == after
