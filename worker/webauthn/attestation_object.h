#pragma once
// The attestationObject of a registration (WebAuthn L3 §6.5): a CBOR map of
// `fmt` (text), `attStmt` (map) and `authData` (bytes). libfido2 1.12 has no
// call that takes it whole (fido_cred_set_attobj came in 1.15), so it is
// split here. The statement itself is not judged: the server asks for
// attestation "none" and ignores whatever statement comes (API.md).
#include <optional>
#include <string>
#include <string_view>

namespace authd::webauthn {

struct AttestationObject {
  std::string fmt;
  std::string authenticator_data;
};

// nullopt when `cbor` is not exactly one strict CBOR map (webauthn/cbor.h)
// holding those three members with those types: a malformed credential.
std::optional<AttestationObject> parse_attestation_object(std::string_view cbor);

}  // namespace authd::webauthn
