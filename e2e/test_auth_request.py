"""nginx `auth_request` in front of another service, as shipped in
nginx/auth-request-example.conf.template: a valid token is admitted and the
identity passed on; expired, revoked, forged and missing tokens are 401
before the service is reached; a client cannot send its own identity."""
import json

import pytest

from authd_e2e import Api, assert_request_id, decode_jwt, describe, now, sign_jwt


@pytest.fixture
def gate(auth_request_url):
    a = Api(auth_request_url)
    yield a
    a.close()


def upstream_saw(r) -> dict:
    assert r.status_code == 200, describe(r)
    return json.loads(r.text)


def assert_refused(r):
    assert r.status_code == 401, describe(r)
    assert r.headers.get("Content-Type", "").startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "invalid_token", body
    assert "x_auth_user_id" not in r.text, "the service answered"
    assert r.headers.get("WWW-Authenticate", "").startswith('Bearer realm="auth"')
    assert_request_id(r)


def test_a_valid_token_is_admitted_with_the_identity(gate, session):
    seen = upstream_saw(gate.get("/app/orders/42", token=session.access_token))
    assert seen == {"uri": "/app/orders/42", "x_auth_user_id": session.user.id,
                    "x_auth_email": session.user.email, "x_auth_email_verified": "false",
                    "x_auth_amr": "pwd"}


def test_a_post_with_a_body_is_checked_the_same(gate, session):
    r = gate.post_json("/app/orders", {"item": "x" * 1000},
                       headers={"Authorization": f"Bearer {session.access_token}"})
    assert upstream_saw(r)["x_auth_user_id"] == session.user.id


def test_client_sent_identity_headers_never_reach_the_service(gate, session, make_user):
    someone_else = make_user()
    spoof = {"X-Auth-User-Id": someone_else.id, "X-Auth-Email": someone_else.email,
             "X-Auth-Email-Verified": "true", "X-Auth-AMR": "pwd,otp"}
    seen = upstream_saw(gate.get("/app/", token=session.access_token, headers=spoof))
    assert seen["x_auth_user_id"] == session.user.id
    assert seen["x_auth_email"] == session.user.email
    assert seen["x_auth_email_verified"] == "false"
    assert seen["x_auth_amr"] == "pwd"
    # Without a token the spoofed identity gets nowhere.
    assert_refused(gate.get("/app/", headers=spoof))


def test_a_missing_token_is_401(gate):
    r = gate.get("/app/")
    assert_refused(r)
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="auth"'


def test_an_expired_token_is_401(gate, session, secret_key):
    header, claims = decode_jwt(session.access_token)
    claims.update(iat=now() - 3000, nbf=now() - 3000, exp=now() - 60)
    assert_refused(gate.get("/app/", token=sign_jwt(header, claims, secret_key)))


def test_a_forged_token_is_401(gate, session):
    header, claims = decode_jwt(session.access_token)
    assert_refused(gate.get("/app/", token=sign_jwt(header, claims, b"not-the-key" * 4)))
    assert_refused(gate.get("/app/", token="garbage"))


def test_a_revoked_token_is_401(gate, api, session):
    assert upstream_saw(gate.get("/app/", token=session.access_token))
    assert api.logout(session.access_token).status_code == 204
    assert_refused(gate.get("/app/", token=session.access_token))
