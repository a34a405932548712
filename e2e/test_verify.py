"""GET /auth/verify (for nginx auth_request), and revocation: a password
change ends every other session at once for /auth/me, /auth/verify and
/auth/refresh; every bearer 401 carries RFC 6750's challenge."""
import pytest

from authd_e2e import (assert_bearer_401, assert_no_body, assert_problem, decode_jwt, describe,
                       now, sign_jwt, strong_password)


def test_verify_204_with_the_identity_and_no_body(api, session):
    r = api.verify(session.access_token)
    assert_no_body(r, 204)
    assert r.headers.get("X-Auth-User-Id") == session.user.id
    assert r.headers.get("X-Auth-Email") == session.user.email
    assert r.headers.get("X-Auth-AMR") == "pwd"
    assert "Content-Type" not in r.headers
    assert "no-store" in r.headers.get("Cache-Control", "")


def test_verify_401_without_a_token_has_no_body(api):
    r = api.verify(None)
    assert_no_body(r, 401)
    assert r.headers.get("WWW-Authenticate") == 'Bearer realm="auth"'
    assert "X-Auth-User-Id" not in r.headers
    assert "Content-Type" not in r.headers


@pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
def test_verify_401_for_a_bad_token_has_no_body(api, token):
    r = api.get("/auth/verify", headers={"Authorization": f"Bearer {token}"})
    assert_no_body(r, 401)
    assert "Content-Type" not in r.headers
    assert "X-Auth-User-Id" not in r.headers
    want = {'Bearer realm="auth", error="invalid_token"', 'Bearer realm="auth"'}
    assert r.headers.get("WWW-Authenticate") in want


def test_verify_401_for_an_expired_token(api, session, secret_key):
    header, claims = decode_jwt(session.access_token)
    claims.update(iat=now() - 2000, nbf=now() - 2000, exp=now() - 100)
    r = api.verify(sign_jwt(header, claims, secret_key))
    assert_no_body(r, 401)
    assert r.headers.get("WWW-Authenticate") == 'Bearer realm="auth", error="invalid_token"'


def test_verify_401_for_a_forged_token(api, session):
    header, claims = decode_jwt(session.access_token)
    claims["sub"] = "00000000-0000-7000-8000-000000000000"
    forged = sign_jwt(header, claims, b"k" * 48)
    assert_no_body(api.verify(forged), 401)


def test_verify_401_for_a_revoked_session(api, session):
    assert api.logout(session.access_token).status_code == 204
    r = api.verify(session.access_token)
    assert_no_body(r, 401)
    assert r.headers.get("WWW-Authenticate") == 'Bearer realm="auth", error="invalid_token"'


def test_verify_passes_amr_of_the_session_after_refresh(api, session):
    r = api.refresh(session.refresh_token)
    assert r.status_code == 200
    v = api.verify(r.json()["access_token"])
    assert v.status_code == 204 and v.headers.get("X-Auth-AMR") == "pwd"


def test_verify_405_for_post(api, session):
    r = api.post_json("/auth/verify", {}, headers={"Authorization": f"Bearer {session.access_token}"})
    assert r.status_code == 405, describe(r)


# --- revocation ---------------------------------------------------------------------

def test_password_change_revokes_every_other_session_at_once(api, user, make_session):
    one, two = make_session(user), make_session(user)
    refreshed = api.refresh(two.refresh_token).json()
    new_pw = strong_password()
    r = api.change_password(user.email, user.password, new_pw)
    assert r.status_code == 200, describe(r)
    fresh = r.json()
    for access in (one.access_token, two.access_token, refreshed["access_token"]):
        assert_bearer_401(api.me(access))
        v = api.verify(access)
        assert_no_body(v, 401)
        assert v.headers.get("WWW-Authenticate") == 'Bearer realm="auth", error="invalid_token"'
    for refresh in (one.refresh_token, refreshed["refresh_token"]):
        r = api.refresh(refresh)
        assert_problem(r, 401, "invalid_token")
    # The pair the change answered works, and is the only live session.
    assert api.me(fresh["access_token"]).status_code == 200
    assert api.verify(fresh["access_token"]).status_code == 204
    listed = api.sessions(fresh["access_token"]).json()["sessions"]
    assert [s["id"] for s in listed] == [decode_jwt(fresh["access_token"])[1]["sid"]]
    assert api.refresh(fresh["refresh_token"]).status_code == 200


def test_a_login_in_the_same_second_as_the_change_dies_too(api, user):
    r1 = api.login(user.email, user.password)
    r2 = api.change_password(user.email, user.password, strong_password())
    assert r1.status_code == 200 and r2.status_code == 200
    assert_bearer_401(api.me(r1.json()["access_token"]))
    assert_problem(api.refresh(r1.json()["refresh_token"]), 401, "invalid_token")


@pytest.mark.parametrize("method,path", [
    ("GET", "/auth/me"), ("GET", "/auth/sessions"), ("POST", "/auth/logout"),
    ("DELETE", "/auth/sessions/00000000-0000-7000-8000-000000000000"),
])
def test_every_bearer_401_carries_the_challenge(api, session, method, path):
    r = api.request(method, path)
    assert_bearer_401(r, sent=False)
    r = api.request(method, path, headers={"Authorization": "Basic YTpi"})
    assert_bearer_401(r, sent=False)
    r = api.request(method, path, headers={"Authorization": "Bearer nope"})
    assert_bearer_401(r, sent=True)
    assert api.logout(session.access_token).status_code == 204
    r = api.request(method, path, headers={"Authorization": f"Bearer {session.access_token}"})
    assert_bearer_401(r, sent=True)
