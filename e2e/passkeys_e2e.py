"""Helpers of the passkey tests: the relying party the stack runs with
(E2E_WEBAUTHN_RP_ID, E2E_WEBAUTHN_ORIGINS: scripts/e2e-stack.sh sets them,
as `make run` has them), and the calls of API.md "Passkeys (WebAuthn)"."""
from __future__ import annotations

import hashlib
import os

import pytest
import requests

from authd_e2e import Api, assert_json, bearer, remember, remember_tokens
from webauthn_forge import SoftAuthenticator, Spoil, unb64u

RP_ID = os.environ.get("E2E_WEBAUTHN_RP_ID", "")
ORIGINS = [o.strip() for o in os.environ.get("E2E_WEBAUTHN_ORIGINS", "").split(",") if o.strip()]


def relying_party() -> tuple[str, str]:
    """(RP id, the origin a browser page of the stack has: http://localhost:PORT)."""
    if not RP_ID or not ORIGINS:
        pytest.skip("E2E_WEBAUTHN_RP_ID / E2E_WEBAUTHN_ORIGINS are not set: the relying party "
                    "the server runs with is unknown")
    return RP_ID, ORIGINS[0]


def registration_options(api: Api, token: str | None, password: str,
                         code: str | None = None) -> requests.Response:
    body = {"password": password}
    if code is not None:
        body["code"] = code
    return api.post_json("/auth/passkeys/register/options", body, headers=bearer(token))


def register(api: Api, token: str | None, credential, name: str | None = None,
             headers: dict | None = None) -> requests.Response:
    body = {"credential": credential}
    if name is not None:
        body["name"] = name
    return api.post_json("/auth/passkeys/register", body,
                         headers={**bearer(token), **(headers or {})})


def login_options(api: Api) -> dict:
    return assert_json(api.post_json("/auth/passkeys/login/options", {}), 200)["publicKey"]


def passkey_login(api: Api, credential) -> requests.Response:
    r = api.post_json("/auth/passkeys/login", {"credential": credential})
    remember_tokens(r)
    return r


def options_for(api: Api, session) -> dict:
    r = registration_options(api, session.access_token, session.user.password)
    return assert_json(r, 200)["publicKey"]


def enrol(api: Api, session, authenticator: SoftAuthenticator, origin: str,
          name: str | None = None, spoil: Spoil | None = None) -> tuple[requests.Response, dict]:
    """Options, the authenticator's credential, the registration: (answer, options)."""
    options = options_for(api, session)
    credential = authenticator.create(options, origin, spoil)
    return register(api, session.access_token, credential, name), options


def log_in_with(api: Api, authenticator: SoftAuthenticator, origin: str,
                spoil: Spoil | None = None, user_handle="own") -> requests.Response:
    options = login_options(api)
    return passkey_login(api, authenticator.get(options, origin, spoil, user_handle))


def turn_on_totp(api: Api, session):
    """TOTP on for the session's user: the pyotp.TOTP that makes its codes."""
    import pyotp
    h = bearer(session.access_token)
    setup = assert_json(api.post_json("/auth/mfa/totp/setup", {"password": session.user.password},
                                      headers=h), 200)
    remember(setup["secret"])
    totp = pyotp.TOTP(setup["secret"])
    assert_json(api.post_json("/auth/mfa/totp/confirm", {"code": totp.now()}, headers=h), 200)
    return totp


def challenge_digest(challenge_b64: str) -> bytes:
    return hashlib.sha256(unb64u(challenge_b64)).digest()


def expire_challenge(db, challenge_b64: str) -> None:
    """Moves a challenge past its 5 minutes (waiting would take them)."""
    with db.cursor() as c:
        c.execute("UPDATE webauthn_challenges SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND"
                  " WHERE challenge_hash = %s", (challenge_digest(challenge_b64),))
        assert c.rowcount == 1, "no such challenge"
    db.commit()


def stored_passkey(db, credential_id: bytes) -> dict | None:
    with db.cursor() as c:
        c.execute("SELECT sign_count, backup_state, last_used_at, name FROM passkeys"
                  " WHERE credential_id_hash = %s", (hashlib.sha256(credential_id).digest(),))
        row = c.fetchone()
    db.commit()
    if row is None:
        return None
    return dict(zip(("sign_count", "backup_state", "last_used_at", "name"), row))


def failures_of(db, email: str) -> int:
    """The account's failed-login count across addresses (its email row,
    keyed by the SHA-256 of the normalised email)."""
    with db.cursor() as c:
        c.execute("SELECT COALESCE(MAX(failures), 0) FROM login_throttle"
                  " WHERE email_hash = %s AND ip = ''", (hashlib.sha256(email.encode()).digest(),))
        (n,) = c.fetchone()
    db.commit()
    return int(n)
