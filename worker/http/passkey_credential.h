#pragma once
// A passkey credential in WebAuthn L3's JSON form (what a browser's
// credential.toJSON() gives: binary values as base64url without padding),
// read into the webauthn room's structures. What cannot be read (a member
// missing or of the wrong type, bad base64url, clientDataJSON that is not a
// JSON object of the right members, an attestationObject that is not strict
// CBOR) is the body's shape: 400 invalid_field naming the member that holds
// the credential. Whether what was read passes the checks is not judged here.
#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/problem.h"
#include "webauthn/verify.h"

namespace authd::http {

struct RegistrationCredential {
  webauthn::Registration response;
  std::vector<std::string> transports;
};

// `field`: the body member the credential came in ("credential").
std::variant<RegistrationCredential, Problem> read_registration_credential(
    const rapidjson::Value& credential, std::string_view field);

// `field`: "credential" (login) or "passkey" (the second factor).
std::variant<webauthn::Assertion, Problem> read_assertion_credential(
    const rapidjson::Value& credential, std::string_view field);

}  // namespace authd::http
