"""GET /.well-known/jwks.json and ES256 access tokens, checked by a verifier
outside this codebase (Debian's python3-jwt and its PyJWKClient), and key
rotation with JWT_PREVIOUS_PUBLIC_KEY_FILE (API.md "Access token")."""
import hashlib
import json
import os
import secrets

import pytest

from authd_e2e import (assert_bearer_401, assert_problem, assert_request_id, b64url, b64url_decode,
                       decode_jwt, describe, now, sign_jwt, strong_password, unique_email)

jwt = pytest.importorskip("jwt")  # python3-jwt (scripts/install-deps.sh)
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402


def private_key(path: str):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def thumbprint(public_key) -> str:
    """RFC 7638 JWK thumbprint of a P-256 public key, computed here."""
    nums = public_key.public_numbers()
    jwk = {"crv": "P-256", "kty": "EC",
           "x": b64url(nums.x.to_bytes(32, "big")), "y": b64url(nums.y.to_bytes(32, "big"))}
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())


@pytest.fixture(scope="module")
def keys():
    cur, prev = os.environ.get("E2E_ES256_KEY_FILE"), os.environ.get("E2E_ES256_PREVIOUS_KEY_FILE")
    if not cur or not prev:
        pytest.skip("E2E_ES256_KEY_FILE / E2E_ES256_PREVIOUS_KEY_FILE are not set")
    return {"current": private_key(cur), "previous": private_key(prev)}


@pytest.fixture
def es256_session(es256_api):
    email, pw = unique_email("es256"), strong_password()
    assert es256_api.register(email, pw).status_code == 201
    r = es256_api.login(email, pw)
    assert r.status_code == 200, describe(r)
    return r.json()


def test_jwks_is_404_with_hs256(api):
    assert_problem(api.get("/.well-known/jwks.json"), 404, "not_found")


def test_jwks_publishes_the_current_and_the_previous_public_key(es256_api, keys):
    r = es256_api.get("/.well-known/jwks.json")
    assert r.status_code == 200, describe(r)
    assert_request_id(r)
    assert r.headers["Content-Type"].split(";")[0] in ("application/json", "application/jwk-set+json")
    doc = r.json()
    assert list(doc) == ["keys"]
    by_kid = {k["kid"]: k for k in doc["keys"]}
    assert set(by_kid) == {thumbprint(keys["current"].public_key()),
                           thumbprint(keys["previous"].public_key())}
    for k in doc["keys"]:
        assert k["kty"] == "EC" and k["crv"] == "P-256" and k["alg"] == "ES256", k
        assert k.get("use", "sig") == "sig"
        assert "d" not in k, "a private key component is published"


# P-256's group order: an ECDSA signature (r, s) and (r, n - s) both verify;
# the server signs and accepts only the low one (s <= n/2).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def low_s(token: str) -> str:
    """The token with its signature's S made low, as our signer makes it (a
    library's random nonce gives a high S half the time)."""
    head, payload, sig = token.split(".")
    raw = b64url_decode(sig)
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    if s > P256_ORDER // 2:
        s = P256_ORDER - s
    return ".".join([head, payload, b64url(r + s.to_bytes(32, "big"))])


def test_an_outside_library_verifies_our_token_from_the_jwks(es256_url, es256_session, keys):
    token = es256_session["access_token"]
    header, _ = decode_jwt(token)
    assert header["alg"] == "ES256" and header["typ"] == "at+jwt"
    assert header["kid"] == thumbprint(keys["current"].public_key())
    client = jwt.PyJWKClient(f"{es256_url}/.well-known/jwks.json")
    signing_key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key.key, algorithms=["ES256"], audience="auth",
                        issuer="auth", options={"require": ["exp", "iat", "nbf", "sub", "jti"]})
    assert claims["sub"] == es256_session["user"]["id"]
    assert claims["email"] == es256_session["user"]["email"]
    assert claims["exp"] - claims["iat"] == 900
    # The library refuses a token we tampered with.
    h, p, s = token.split(".")
    tampered_claims = dict(claims, sub="00000000-0000-7000-8000-000000000000")
    tampered = ".".join([h, b64url(json.dumps(tampered_claims).encode()), s])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, signing_key.key, algorithms=["ES256"], audience="auth", issuer="auth")


def test_a_token_signed_with_the_previous_key_is_still_accepted(es256_api, es256_url,
                                                                es256_session, keys):
    """Rotation: tokens made before the switch (signed with the key now in
    JWT_PREVIOUS_PUBLIC_KEY_FILE) verify until they expire, on the server and
    for outside verifiers."""
    _, claims = decode_jwt(es256_session["access_token"])
    claims.update(jti=secrets.token_hex(8), iat=now() - 60, nbf=now() - 60)
    old_kid = thumbprint(keys["previous"].public_key())
    old = low_s(jwt.encode(claims, keys["previous"], algorithm="ES256",
                           headers={"kid": old_kid, "typ": "at+jwt"}))
    r = es256_api.me(old)
    assert r.status_code == 200, describe(r)
    assert es256_api.verify(old).status_code == 204
    client = jwt.PyJWKClient(f"{es256_url}/.well-known/jwks.json")
    key = client.get_signing_key_from_jwt(old)
    assert jwt.decode(old, key.key, algorithms=["ES256"], audience="auth")["jti"] == claims["jti"]


def test_a_token_signed_with_another_key_under_our_kid_is_refused(es256_api, es256_session, keys):
    _, claims = decode_jwt(es256_session["access_token"])
    stranger = ec.generate_private_key(ec.SECP256R1())
    for kid in (thumbprint(keys["current"].public_key()), thumbprint(keys["previous"].public_key()),
                thumbprint(stranger.public_key())):
        forged = jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": kid, "typ": "at+jwt"})
        assert_bearer_401(es256_api.me(forged))


def test_algorithm_confusion_is_refused(es256_api, es256_session, keys, api, session, secret_key):
    header, claims = decode_jwt(es256_session["access_token"])
    # HS256 keyed with the published public key.
    pem = keys["current"].public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
    confused = sign_jwt(dict(header, alg="HS256"), claims, pem)
    assert_bearer_401(es256_api.me(confused))
    # Each pool accepts only its own algorithm: an HS256 token with the right
    # secret is refused by the ES256 pool, and the ES256 token by the HS256 one.
    h, c = decode_jwt(session.access_token)
    assert_bearer_401(es256_api.me(sign_jwt(h, c, secret_key)))
    assert_bearer_401(api.me(es256_session["access_token"]))
