"""A software WebAuthn authenticator and client for the end-to-end tests:
real keys (python3-cryptography: EdDSA, ES256, RS256, and ES384 for the
algorithm the server must refuse), CBOR by python3-cbor2, and every field
spoilable on its own (type, origin, crossOrigin, topOrigin, rpIdHash, flags,
counter, trailing bytes, the key's algorithm, the signature), so that each
negative case of WebAuthn L3 §7.1/§7.2 is one request.

Credentials come out in WebAuthn L3's JSON form, as a browser's
`credential.toJSON()` sends them. A key exported by Chromium's virtual
authenticator (WebAuthn.getCredentials: PKCS#8, base64) is taken with
`SoftAuthenticator.from_pkcs8`, so a passkey the browser registered can be
used to forge what the browser will not produce.

`cross_check_*` verify the same responses with python3-fido2's Fido2Server,
an independent implementation.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

UP, UV, BE, BS, AT, ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80
ALGS = {"EdDSA": -8, "ES256": -7, "RS256": -257, "ES384": -35}


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _new_key(alg: str):
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(alg)


def _alg_of(key) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ES256" if key.curve.name == "secp256r1" else "ES384"
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    raise ValueError(type(key))


_RSA_KEY = None  # RSA-2048 generation is slow: one key for the whole run


@dataclasses.dataclass
class Spoil:
    """What a test changes in one ceremony (None: as a good authenticator)."""
    type: str | None = None
    origin: str | None = None
    challenge: str | None = None
    cross_origin: bool | None = None
    top_origin: str | None = None
    client_data_extra: dict | None = None
    rp_id: str | None = None
    flags: int | None = None
    add_flags: int = 0
    drop_flags: int = 0
    sign_count: int | None = None
    trailing: bytes = b""
    alg_label: int | None = None
    bad_signature: bool = False
    credential_id: bytes | None = None  # rawId sent (the authenticator's own by default)


class SoftAuthenticator:
    def __init__(self, alg: str = "ES256", rp_id: str = "localhost", backup_eligible: bool = False,
                 backed_up: bool = False, key=None, credential_id: bytes | None = None,
                 sign_count: int = 0):
        global _RSA_KEY
        if key is None and alg == "RS256":
            _RSA_KEY = _RSA_KEY or _new_key("RS256")
            key = _RSA_KEY
        self.key = key or _new_key(alg)
        self.alg = _alg_of(self.key)
        self.rp_id = rp_id
        self.backup_eligible = backup_eligible
        self.backed_up = backed_up
        self.credential_id = credential_id or os.urandom(32)
        self.sign_count = sign_count
        self.user_handle: bytes | None = None

    @classmethod
    def from_pkcs8(cls, pkcs8_b64: str, credential_id: bytes, rp_id: str, sign_count: int,
                   backup_eligible: bool = False) -> "SoftAuthenticator":
        key = serialization.load_der_private_key(base64.b64decode(pkcs8_b64), password=None)
        return cls(key=key, credential_id=credential_id, rp_id=rp_id, sign_count=sign_count,
                   backup_eligible=backup_eligible, backed_up=backup_eligible)

    # --- keys -------------------------------------------------------------------------

    def cose_key(self, alg_label: int | None = None) -> bytes:
        alg = ALGS[self.alg] if alg_label is None else alg_label
        pub = self.key.public_key()
        if self.alg == "EdDSA":
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return cbor2.dumps({1: 1, 3: alg, -1: 6, -2: raw})
        if self.alg in ("ES256", "ES384"):
            n = pub.public_numbers()
            size = 32 if self.alg == "ES256" else 48
            return cbor2.dumps({1: 2, 3: alg, -1: 1 if self.alg == "ES256" else 2,
                                -2: n.x.to_bytes(size, "big"), -3: n.y.to_bytes(size, "big")})
        n = pub.public_numbers()
        return cbor2.dumps({1: 3, 3: alg, -1: n.n.to_bytes(256, "big"), -2: n.e.to_bytes(3, "big")})

    def sign(self, message: bytes) -> bytes:
        if self.alg == "EdDSA":
            return self.key.sign(message)
        if self.alg == "ES256":
            return self.key.sign(message, ec.ECDSA(hashes.SHA256()))
        if self.alg == "ES384":
            return self.key.sign(message, ec.ECDSA(hashes.SHA384()))
        return self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    # --- ceremonies -------------------------------------------------------------------

    def _flags(self, base: int, spoil: Spoil) -> int:
        if spoil.flags is not None:
            return spoil.flags
        flags = base
        if self.backup_eligible:
            flags |= BE
        if self.backed_up:
            flags |= BS
        return (flags | spoil.add_flags) & ~spoil.drop_flags

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str, spoil: Spoil) -> bytes:
        data = {"type": spoil.type or kind, "challenge": spoil.challenge or challenge,
                "origin": spoil.origin or origin}
        if spoil.cross_origin is not None:
            data["crossOrigin"] = spoil.cross_origin
        else:
            data["crossOrigin"] = False
        if spoil.top_origin is not None:
            data["topOrigin"] = spoil.top_origin
        data.update(spoil.client_data_extra or {})
        return json.dumps(data, separators=(",", ":")).encode()

    def create(self, public_key: dict, origin: str, spoil: Spoil | None = None) -> dict:
        """navigator.credentials.create() with these options: RegistrationResponseJSON."""
        spoil = spoil or Spoil()
        self.user_handle = unb64u(public_key["user"]["id"])
        cdj = self._client_data("webauthn.create", public_key["challenge"], origin, spoil)
        rp_hash = hashlib.sha256((spoil.rp_id or public_key["rp"]["id"]).encode()).digest()
        count = self.sign_count if spoil.sign_count is None else spoil.sign_count
        auth_data = (rp_hash + bytes([self._flags(UP | UV | AT, spoil)]) + struct.pack(">I", count)
                     + bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id
                     + self.cose_key(spoil.alg_label) + spoil.trailing)
        att = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        raw_id = spoil.credential_id or self.credential_id
        return {"id": b64u(raw_id), "rawId": b64u(raw_id), "type": "public-key",
                "authenticatorAttachment": "platform", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64u(cdj), "attestationObject": b64u(att),
                             "transports": ["internal"]}}

    def get(self, public_key: dict, origin: str, spoil: Spoil | None = None,
            user_handle: bytes | None | str = "own") -> dict:
        """navigator.credentials.get() with these options: AuthenticationResponseJSON.
        `user_handle`: the one registered ("own"), another, or None (left out)."""
        spoil = spoil or Spoil()
        cdj = self._client_data("webauthn.get", public_key["challenge"], origin, spoil)
        rp_hash = hashlib.sha256((spoil.rp_id or public_key["rpId"]).encode()).digest()
        if spoil.sign_count is None:
            self.sign_count += 1
            count = self.sign_count
        else:
            count = spoil.sign_count
        auth_data = (rp_hash + bytes([self._flags(UP | UV, spoil)]) + struct.pack(">I", count)
                     + spoil.trailing)
        signature = self.sign(auth_data + hashlib.sha256(cdj).digest())
        if spoil.bad_signature:
            signature = signature[:-1] + bytes([signature[-1] ^ 1])
        raw_id = spoil.credential_id or self.credential_id
        response = {"clientDataJSON": b64u(cdj), "authenticatorData": b64u(auth_data),
                    "signature": b64u(signature)}
        handle = self.user_handle if user_handle == "own" else user_handle
        if handle is not None:
            response["userHandle"] = b64u(handle)
        return {"id": b64u(raw_id), "rawId": b64u(raw_id), "type": "public-key",
                "authenticatorAttachment": "platform", "clientExtensionResults": {},
                "response": response}


# --- an independent verifier: python3-fido2's Fido2Server --------------------------------

def _fido2_server(rp_id: str, origin: str):
    from fido2.server import Fido2Server
    from fido2.webauthn import PublicKeyCredentialRpEntity
    # Its default origin check refuses plain http (even on localhost).
    return Fido2Server(PublicKeyCredentialRpEntity(rp_id, "authd"),
                       verify_origin=lambda o: o == origin)


def cross_check_registration(credential: dict, challenge: str, rp_id: str, origin: str):
    """python-fido2 verifies the registration the server accepted; returns
    its AttestedCredentialData (for cross_check_assertion)."""
    from fido2.client import ClientData
    from fido2.ctap2 import AttestationObject
    from fido2.webauthn import UserVerificationRequirement
    server = _fido2_server(rp_id, origin)
    state = {"challenge": challenge, "user_verification": UserVerificationRequirement.REQUIRED}
    auth_data = server.register_complete(
        state, ClientData(unb64u(credential["response"]["clientDataJSON"])),
        AttestationObject(unb64u(credential["response"]["attestationObject"])))
    assert auth_data.credential_data.credential_id == unb64u(credential["rawId"])
    return auth_data.credential_data


def cross_check_assertion(credential: dict, challenge: str, rp_id: str, origin: str,
                          registered, user_verification: bool = True) -> None:
    """python-fido2 verifies the assertion the server accepted (it checks
    neither the counter nor BE/BS)."""
    from fido2.client import ClientData
    from fido2.ctap2 import AuthenticatorData
    from fido2.webauthn import UserVerificationRequirement
    server = _fido2_server(rp_id, origin)
    uv = (UserVerificationRequirement.REQUIRED if user_verification
          else UserVerificationRequirement.DISCOURAGED)
    state = {"challenge": challenge, "user_verification": uv}
    r = credential["response"]
    server.authenticate_complete(state, [registered], unb64u(credential["rawId"]),
                                 ClientData(unb64u(r["clientDataJSON"])),
                                 AuthenticatorData(unb64u(r["authenticatorData"])),
                                 unb64u(r["signature"]))
