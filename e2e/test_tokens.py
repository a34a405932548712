"""GET /auth/me and the access token: contents, WWW-Authenticate, and every
way a token can be wrong (401 invalid_token)."""
import secrets
import uuid

import pytest

from authd_e2e import (JWT_AUDIENCE, JWT_ISSUER, assert_json, assert_problem, assert_uuid7,
                       b64url, b64url_decode, decode_jwt, now, sign_jwt)

BEARER_ONLY = 'Bearer realm="auth"'
BEARER_INVALID = 'Bearer realm="auth", error="invalid_token"'


def assert_bearer_401(r, sent_bearer: bool):
    assert_problem(r, 401, "invalid_token")
    assert r.headers.get("WWW-Authenticate") == (BEARER_INVALID if sent_bearer else BEARER_ONLY), \
        f"WWW-Authenticate: {r.headers.get('WWW-Authenticate')!r}"


# --- GET /auth/me -------------------------------------------------------------------

def test_me_200(api, session):
    body = assert_json(api.me(session.access_token), 200)
    u = session.user
    assert body["id"] == u.id
    assert body["email"] == u.email
    assert body["created_at"] == u.created_at
    assert body["password_changed_at"] == u.created_at  # until the first change
    assert body["email_verified_at"] is None
    assert body["mfa_enabled"] is False
    for secret_field in ("password", "password_hash"):
        assert secret_field not in body


def test_me_is_per_user(api, make_user, make_session):
    a, b = make_session(make_user()), make_session(make_user())
    assert api.me(a.access_token).json()["id"] == a.user.id
    assert api.me(b.access_token).json()["id"] == b.user.id


# --- the access token -----------------------------------------------------------------

def test_access_token_header(session):
    h = session.header
    assert h.get("alg") == "HS256", h
    assert h.get("typ") == "at+jwt", h
    assert isinstance(h.get("kid"), str) and h["kid"], h


def test_access_token_claims(session):
    c = session.claims
    u = session.user
    assert c.get("sub") == u.id
    assert c.get("email") == u.email
    assert_uuid7(c.get("sid"))
    assert isinstance(c.get("jti"), str) and len(c["jti"]) >= 8, c
    assert c.get("iss") == JWT_ISSUER
    assert c.get("aud") in (JWT_AUDIENCE, [JWT_AUDIENCE]), c
    for k in ("iat", "nbf", "exp", "auth_time"):
        assert isinstance(c.get(k), int), (k, c)
    assert c["nbf"] == c["iat"]
    assert c["exp"] - c["iat"] == session.body["expires_in"]
    assert abs(c["iat"] - now()) < 120, "iat is far from this machine's clock"
    assert c["iat"] - 5 <= c["auth_time"] <= c["iat"], "auth_time is not the login's time"
    assert c.get("amr") == ["pwd"]


def test_jti_is_unique(make_user, make_session):
    u = make_user()
    jtis = {make_session(u).claims["jti"] for _ in range(3)}
    assert len(jtis) == 3


# --- WWW-Authenticate -----------------------------------------------------------------

def test_401_without_authorization(api):
    assert_bearer_401(api.me(None), sent_bearer=False)


@pytest.mark.parametrize("value", [
    "Basic dXNlcjpwYXNz",
    "Digest username=\"x\"",
    "Token abc.def.ghi",
    "Bearerabc.def.ghi",
])
def test_401_another_scheme_counts_as_none(api, value):
    assert_bearer_401(api.me(None, headers={"Authorization": value}), sent_bearer=False)


@pytest.mark.parametrize("token", [
    "garbage",
    "a.b.c",
    "a.b",
    "....",
    "eyJhbGciOiJIUzI1NiJ9.e30.",
])
def test_401_malformed_bearer_token(api, token):
    assert_bearer_401(api.me(token), sent_bearer=True)


def test_401_refresh_token_is_not_an_access_token(api, session):
    assert_bearer_401(api.me(session.refresh_token), sent_bearer=True)


def test_401_access_token_with_trailing_junk(api, session):
    assert_bearer_401(api.me(session.access_token + "x"), sent_bearer=True)
    assert_bearer_401(api.me(session.access_token + ".x"), sent_bearer=True)


# --- tampering without the key ------------------------------------------------------

def tamper_claims(token: str, **changes) -> str:
    h, p, s = token.split(".")
    claims = decode_jwt(token)[1]
    claims.update(changes)
    import json
    return h + "." + b64url(json.dumps(claims, separators=(",", ":")).encode()) + "." + s


def test_401_tampered_claims(api, make_user, make_session):
    a, b = make_session(make_user()), make_session(make_user())
    t = a.access_token
    for changes in ({"sub": b.user.id}, {"email": b.user.email}, {"sid": b.claims["sid"]},
                    {"exp": a.claims["exp"] + 86400}, {"amr": ["pwd", "otp"]}):
        assert_bearer_401(api.me(tamper_claims(t, **changes)), sent_bearer=True)
    assert api.me(t).status_code == 200  # the original still works


def test_401_tampered_signature(api, session):
    h, p, s = session.access_token.split(".")
    sig = bytearray(b64url_decode(s))
    sig[0] ^= 0x01
    assert_bearer_401(api.me(f"{h}.{p}.{b64url(bytes(sig))}"), sent_bearer=True)
    assert_bearer_401(api.me(f"{h}.{p}."), sent_bearer=True)
    assert_bearer_401(api.me(f"{h}.{p}.{s[:-4]}"), sent_bearer=True)


def test_401_alg_none(api, session):
    header, claims = decode_jwt(session.access_token)
    for alg in ("none", "None", "NONE"):
        forged = sign_jwt(dict(header, alg=alg), claims, key=None)
        assert_bearer_401(api.me(forged), sent_bearer=True)
        # ... also with the original signature left on.
        assert_bearer_401(api.me(forged + session.access_token.rsplit(".", 1)[1]),
                          sent_bearer=True)


def test_401_header_alg_swapped(api, session):
    # The algorithm is pinned by configuration, never read from the token.
    h, p, s = session.access_token.split(".")
    header = decode_jwt(session.access_token)[0]
    import json
    for alg in ("HS512", "HS384", "RS256", "ES256"):
        hh = b64url(json.dumps(dict(header, alg=alg), separators=(",", ":")).encode())
        assert_bearer_401(api.me(f"{hh}.{p}.{s}"), sent_bearer=True)


def test_401_signed_with_another_key(api, session):
    header, claims = decode_jwt(session.access_token)
    forged = sign_jwt(header, claims, key=secrets.token_bytes(48))
    assert_bearer_401(api.me(forged), sent_bearer=True)


# --- forged with the server's key (E2E_SECRET_KEY) --------------------------------

def reissue(session, key, header_changes=None, drop=(), alg="HS256", **claim_changes):
    header, claims = decode_jwt(session.access_token)
    header = dict(header, **(header_changes or {}))
    claims = dict(claims, jti=secrets.token_hex(16), **claim_changes)
    for k in drop:
        header.pop(k, None) if k in ("typ",) else claims.pop(k, None)
    return sign_jwt(header, claims, key, alg=alg)


def test_control_a_token_reissued_with_the_key_is_accepted(api, session, secret_key):
    """Without this, every 401 below could come from a wrong forging method."""
    r = api.me(reissue(session, secret_key))
    assert r.status_code == 200, (
        "a token re-signed with E2E_SECRET_KEY (as the raw HS256 key) was refused: "
        f"{r.status_code} {r.text}")


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
def test_typ_variants_accepted(api, session, secret_key, typ):
    assert api.me(reissue(session, secret_key, header_changes={"typ": typ})).status_code == 200


def test_401_expired(api, session, secret_key):
    t = now()
    expired = reissue(session, secret_key, iat=t - 1000, nbf=t - 1000, exp=t - 100)
    assert_bearer_401(api.me(expired), sent_bearer=True)


def test_401_not_yet_valid(api, session, secret_key):
    t = now()
    future = reissue(session, secret_key, iat=t + 300, nbf=t + 300, exp=t + 1200)
    assert_bearer_401(api.me(future), sent_bearer=True)


@pytest.mark.parametrize("changes", [
    {"iss": "someone-else"},
    {"aud": "someone-else"},
    {"aud": ["someone-else"]},
    {"sid": "0190a6c4-7f2e-7cc1-8a4b-1234567890ab"},
    {"sid": "not-a-uuid"},
    {"exp": "9999999999"},
    {"sub": str(uuid.uuid4())},
], ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_401_wrong_claim(api, session, secret_key, changes):
    assert_bearer_401(api.me(reissue(session, secret_key, **changes)), sent_bearer=True)


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "email", "iat", "nbf", "exp", "jti",
                                   "sid", "amr", "auth_time"])
def test_401_missing_claim(api, session, secret_key, claim):
    assert_bearer_401(api.me(reissue(session, secret_key, drop=(claim,))), sent_bearer=True)


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "at+jwt2", "application/jwt"])
def test_401_wrong_typ(api, session, secret_key, typ):
    if typ is None:
        token = reissue(session, secret_key, drop=("typ",))
    else:
        token = reissue(session, secret_key, header_changes={"typ": typ})
    assert_bearer_401(api.me(token), sent_bearer=True)


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_401_other_hmac_with_the_right_key(api, session, secret_key, alg):
    token = reissue(session, secret_key, header_changes={"alg": alg}, alg=alg)
    assert_bearer_401(api.me(token), sent_bearer=True)


def test_401_token_of_a_revoked_session_even_with_the_key(api, session, secret_key):
    u = session.user
    from authd_e2e import strong_password
    assert api.change_password(u.email, u.password, strong_password()).status_code == 200
    assert_bearer_401(api.me(reissue(session, secret_key)), sent_bearer=True)
