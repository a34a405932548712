#!/usr/bin/python3
"""Writes the seed corpus of the request and email fuzzers (the corpus kept
in the repo, fuzz/corpus/<target>/; libFuzzer adds what it finds when
`make fuzz` runs). The token seeds come from the jwt fuzzer itself
(AUTHD_FUZZ_PRINT_SEEDS=1, see fuzz_jwt_verify.cpp).

    /usr/bin/python3 fuzz/make_corpus.py
"""
import hashlib
import json
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent


def nv(name: bytes, value: bytes) -> bytes:
    def length(n: int) -> bytes:
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return length(len(name)) + length(len(value)) + name + value


def request(method, path, body=b"", content_type=b"application/json", headers=(), down=False,
            length=None):
    params = {
        b"REQUEST_METHOD": method, b"DOCUMENT_URI": path, b"REQUEST_URI": path,
        b"QUERY_STRING": b"", b"REMOTE_ADDR": b"127.0.0.1", b"HTTP_X_REQUEST_ID": b"seed-1",
        b"HTTP_USER_AGENT": b"fuzz", b"SERVER_PROTOCOL": b"HTTP/1.1",
    }
    if content_type is not None:
        params[b"CONTENT_TYPE"] = content_type
    params[b"CONTENT_LENGTH"] = str(len(body)).encode() if length is None else length
    for k, v in headers:
        params[k] = v
    block = b"".join(nv(k, v) for k, v in params.items())
    return bytes([1 if down else 0]) + struct.pack("<H", len(block)) + block + body


def j(obj) -> bytes:
    return json.dumps(obj).encode()


PW = "violet-Harbor-92-lantern"
BEARER = (b"HTTP_AUTHORIZATION", b"Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.e30.sig")
# The admin key fuzz_request.cpp knows (kFuzzAdminKey).
ADMIN = (b"HTTP_AUTHORIZATION", b"Bearer authd_admin_fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuz")
SEEDS = {
    "fuzz_request": [
        request(b"POST", b"/auth/register", j({"email": "ann@example.com", "password": PW})),
        request(b"POST", b"/auth/register", j({"email": "Ann@Example.COM ", "password": "short"})),
        request(b"POST", b"/auth/login", j({"email": "ann@example.com", "password": PW})),
        request(b"POST", b"/auth/login", j({"email": "ann@example.com", "password": PW}),
                down=True),
        request(b"POST", b"/auth/password", j({"email": "ann@example.com",
                                                "current_password": PW,
                                                "new_password": "correct horse battery staple"})),
        request(b"POST", b"/auth/refresh", j({"refresh_token": "AAAA.BBBB"})),
        request(b"POST", b"/auth/logout", b"", content_type=None, headers=[BEARER]),
        request(b"POST", b"/auth/logout", j({"all": True}), headers=[BEARER]),
        request(b"GET", b"/auth/me", b"", content_type=None, headers=[BEARER]),
        request(b"GET", b"/auth/verify", b"", content_type=None, headers=[BEARER]),
        request(b"GET", b"/auth/sessions", b"", content_type=None, headers=[BEARER]),
        request(b"DELETE", b"/auth/sessions/0190a3b2-0000-7000-8000-000000000002", b"",
                content_type=None, headers=[BEARER]),
        request(b"GET", b"/health", b"", content_type=None),
        request(b"GET", b"/health/ready", b"", content_type=None, down=True),
        request(b"GET", b"/.well-known/jwks.json", b"", content_type=None),
        request(b"PUT", b"/auth/login", b"{}"),
        request(b"POST", b"/auth/login", b'{"email":"a","email":"b","password":"x"}'),
        request(b"POST", b"/auth/login", b'{"email":"\\ud800","password":1}'),
        request(b"POST", b"/auth/login", b"[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"),
        request(b"POST", b"/auth/login", j({"email": None, "password": PW})),
        request(b"POST", b"/auth/login", b"\xff\xfe{}"),
        request(b"POST", b"/auth/login", j({"email": "a@b.co", "password": PW}),
                content_type=b"application/json; charset=\"UTF-8\""),
        request(b"POST", b"/auth/login", j({"email": "a@b.co", "password": PW}),
                content_type=b"text/plain"),
        request(b"POST", b"/auth/register", b"{}", length=b"99999999999999999999"),
        request(b"POST", b"/auth/register", b"x" * 17000),
        request(b"DELETE", b"/auth/me", j({"password": PW, "code": "123456"}), headers=[BEARER]),
        request(b"GET", b"/admin/users", b"", content_type=None,
                headers=[ADMIN, (b"QUERY_STRING", b"email=ann%40example.com*&limit=5&cursor=AQ")]),
        request(b"POST", b"/admin/users", j({"email": "bob@example.com"}), headers=[ADMIN]),
        request(b"GET", b"/admin/users/0190a3b2-0000-7000-8000-000000000001", b"",
                content_type=None, headers=[ADMIN]),
        request(b"POST", b"/admin/users/0190a3b2-0000-7000-8000-000000000001/disable", b"",
                content_type=None, headers=[ADMIN]),
        request(b"DELETE", b"/admin/users/0190a3b2-0000-7000-8000-000000000001/sessions", b"",
                content_type=None, headers=[ADMIN]),
        request(b"DELETE", b"/admin/users/0190a3b2-0000-7000-8000-000000000001", b"",
                content_type=None, headers=[ADMIN]),
    ],
    "fuzz_email": [s.encode() for s in [
        "ann@example.com", " Ann.Lee+tag@Example.COM\t", "a@b", "a..b@example.com",
        ".a@example.com", "a@-x.example.com", "a@xn--bcher-kva.example", "\"q\"@example.com",
        "a@b@c.com", "x" * 65 + "@example.com", "a@" + "b" * 64 + ".com",
        "ñ@example.com", "a@example.com.", "a@example..com", "!#$%&'*+-/=?^_`{|}~@ex.co",
    ]],
}


def webauthn_seeds() -> list[bytes]:
    """fuzz_webauthn: valid registrations and assertions (signed with the
    fixed keys whose public halves the fuzzer holds), and spoiled ones."""
    import sys
    sys.path.insert(0, str(HERE.parent / "e2e"))
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    import cbor2
    from webauthn_forge import AT, BS, ED, UP, UV, SoftAuthenticator, Spoil, unb64u

    eddsa = ed25519.Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(b"authd fuzz eddsa").digest())
    es256 = ec.derive_private_key(
        int.from_bytes(hashlib.sha256(b"authd fuzz es256").digest(), "big") % (2**256 - 2**224),
        ec.SECP256R1())
    origin = "http://localhost:8080"
    create = {"rp": {"id": "localhost", "name": "fuzz"},
              "user": {"id": "dXNlcg", "name": "u", "displayName": "u"},
              "challenge": "Y2hhbGxlbmdl"}
    get = {"challenge": "Y2hhbGxlbmdl", "rpId": "localhost"}
    out = [b"\x00" + s for s in (
        b'{"type":"webauthn.get","challenge":"Y2hhbGxlbmdl","origin":"http://localhost:8080"}',
        b'{"type":"webauthn.create","challenge":"","origin":"x","crossOrigin":true,'
        b'"topOrigin":"y"}', b'{"type":1}', b"[]")]
    for alg in ("EdDSA", "ES256", "RS256", "ES384"):
        a = SoftAuthenticator(alg)
        for spoil in (Spoil(), Spoil(trailing=b"\x00"), Spoil(drop_flags=AT),
                      Spoil(add_flags=BS), Spoil(drop_flags=UV)):
            att = unb64u(a.create(create, origin, spoil)["response"]["attestationObject"])
            out.append(b"\x01" + att)
            out.append(b"\x02" + cbor2.loads(att)["authData"])
    for selector, key in ((0, eddsa), (1, es256), (2, eddsa), (3, es256)):
        a = SoftAuthenticator(key=key, credential_id=b"fuzz-credential")
        a.user_handle = b"user"
        for spoil in (Spoil(), Spoil(trailing=b"\xa0"), Spoil(add_flags=ED | BS),
                      Spoil(drop_flags=UP)):
            cred = a.get(get, origin, spoil)
            r = cred["response"]
            cdj, ad, sig = (unb64u(r[k]) for k in ("clientDataJSON", "authenticatorData",
                                                     "signature"))
            out.append(b"\x03" + bytes([selector]) + struct.pack(">H", len(cdj)) + cdj +
                       struct.pack(">H", len(ad)) + ad + sig)
            if selector == 0:
                out.append(b"\x04" + j(cred))
    out.append(b"\x04" + j(SoftAuthenticator("EdDSA").create(create, origin)))
    return out


def passkey_request_seeds() -> list[bytes]:
    """fuzz_request: the passkey routes with well-formed credentials."""
    import sys
    sys.path.insert(0, str(HERE.parent / "e2e"))
    from webauthn_forge import SoftAuthenticator
    origin = "https://localhost:8443"  # the default policy's origin
    a = SoftAuthenticator("EdDSA")
    created = a.create({"rp": {"id": "localhost", "name": "auth"},
                        "user": {"id": "dXNlcg", "name": "u", "displayName": "u"},
                        "challenge": "Y2hhbGxlbmdl"}, origin)
    got = a.get({"challenge": "Y2hhbGxlbmdl", "rpId": "localhost"}, origin)
    return [
        request(b"POST", b"/auth/passkeys/register/options", j({"password": PW}),
                headers=[BEARER]),
        request(b"POST", b"/auth/passkeys/register", j({"credential": created, "name": "Laptop"}),
                headers=[BEARER]),
        request(b"GET", b"/auth/passkeys", b"", content_type=None, headers=[BEARER]),
        request(b"DELETE", b"/auth/passkeys/0190a3b2-0000-7000-8000-000000000003", b"",
                content_type=None, headers=[BEARER]),
        request(b"POST", b"/auth/passkeys/login/options", b"", content_type=None),
        request(b"POST", b"/auth/passkeys/login", j({"credential": got})),
        request(b"POST", b"/auth/mfa/passkey/options", j({"mfa_token": "t"})),
        request(b"POST", b"/auth/mfa/verify", j({"mfa_token": "t", "passkey": got})),
    ]


def main():
    SEEDS["fuzz_webauthn"] = webauthn_seeds()
    SEEDS["fuzz_request"] = SEEDS["fuzz_request"] + passkey_request_seeds()
    for target, seeds in SEEDS.items():
        out = HERE / "corpus" / target
        out.mkdir(parents=True, exist_ok=True)
        for seed in seeds:
            (out / ("seed-" + hashlib.sha1(seed).hexdigest()[:16])).write_bytes(seed)
        print(f"{target}: {len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main()
