#include "http/passkey_credential.h"

#include <optional>

#include "util/base64url.h"
#include "util/strict_json.h"
#include "webauthn/attestation_object.h"
#include "webauthn/client_data.h"

namespace authd::http {
namespace {

Problem malformed(std::string_view field, std::string_view what) {
  Problem p = invalid_field(field);
  p.detail = "The member \"" + std::string(field) +
             "\" is not a WebAuthn credential: " + std::string(what) + ".";
  return p;
}

std::optional<std::string> base64url_member(const rapidjson::Value& object, const char* name) {
  auto text = json_string_member(object, name);
  if (!text) return std::nullopt;
  return base64url_decode(*text);
}

// What both kinds share: `id` and `rawId` (the same base64url text),
// `type`, the `response` object and its clientDataJSON.
struct Common {
  std::string raw_id;
  std::string type;
  const rapidjson::Value* response = nullptr;
  std::string client_data_json;
  webauthn::ClientData client_data;
};

std::variant<Common, Problem> read_common(const rapidjson::Value& credential,
                                          std::string_view field) {
  if (!credential.IsObject()) return malformed(field, "not an object");
  Common c;
  auto id = json_string_member(credential, "id");
  auto raw_id_text = json_string_member(credential, "rawId");
  if (!id || !raw_id_text) return malformed(field, "id and rawId must be strings");
  auto raw_id = base64url_decode(*raw_id_text);
  if (!raw_id || raw_id->empty()) return malformed(field, "rawId is not base64url");
  if (*id != *raw_id_text) return malformed(field, "id and rawId differ");
  c.raw_id = std::move(*raw_id);
  auto type = json_string_member(credential, "type");
  if (!type) return malformed(field, "type must be a string");
  c.type = std::move(*type);
  c.response = json_member(credential, "response");
  if (c.response == nullptr || !c.response->IsObject()) {
    return malformed(field, "response must be an object");
  }
  auto cdj = base64url_member(*c.response, "clientDataJSON");
  if (!cdj) return malformed(field, "response.clientDataJSON is not base64url");
  auto client_data = webauthn::parse_client_data(*cdj);
  if (!client_data) {
    return malformed(field,
                     "response.clientDataJSON is not client data (a JSON object with "
                     "type, challenge and origin)");
  }
  c.client_data_json = std::move(*cdj);
  c.client_data = std::move(*client_data);
  return c;
}

}  // namespace

std::variant<RegistrationCredential, Problem> read_registration_credential(
    const rapidjson::Value& credential, std::string_view field) {
  auto common = read_common(credential, field);
  if (auto* problem = std::get_if<Problem>(&common)) return *problem;
  Common& c = std::get<Common>(common);
  auto attestation_bytes = base64url_member(*c.response, "attestationObject");
  if (!attestation_bytes) return malformed(field, "response.attestationObject is not base64url");
  auto attestation = webauthn::parse_attestation_object(*attestation_bytes);
  if (!attestation) {
    return malformed(field,
                     "response.attestationObject is not a CBOR map of fmt, attStmt and "
                     "authData");
  }
  RegistrationCredential out;
  if (const rapidjson::Value* transports = json_member(*c.response, "transports")) {
    if (!transports->IsArray()) return malformed(field, "response.transports must be an array");
    for (const auto& t : transports->GetArray()) {
      if (!t.IsString()) return malformed(field, "response.transports must hold strings");
      out.transports.emplace_back(t.GetString(), t.GetStringLength());
    }
  }
  out.response.raw_id = std::move(c.raw_id);
  out.response.type = std::move(c.type);
  out.response.client_data_json = std::move(c.client_data_json);
  out.response.client_data = std::move(c.client_data);
  out.response.fmt = std::move(attestation->fmt);
  out.response.authenticator_data = std::move(attestation->authenticator_data);
  return out;
}

std::variant<webauthn::Assertion, Problem> read_assertion_credential(
    const rapidjson::Value& credential, std::string_view field) {
  auto common = read_common(credential, field);
  if (auto* problem = std::get_if<Problem>(&common)) return *problem;
  Common& c = std::get<Common>(common);
  auto authenticator_data = base64url_member(*c.response, "authenticatorData");
  if (!authenticator_data) return malformed(field, "response.authenticatorData is not base64url");
  auto signature = base64url_member(*c.response, "signature");
  if (!signature) return malformed(field, "response.signature is not base64url");
  webauthn::Assertion out;
  // userHandle: absent or null is no handle (a failed check at passwordless
  // login, fine for a second factor); anything else must be base64url.
  if (const rapidjson::Value* handle = json_member(*c.response, "userHandle");
      handle != nullptr && !handle->IsNull()) {
    auto decoded = base64url_member(*c.response, "userHandle");
    if (!decoded) return malformed(field, "response.userHandle is not base64url");
    out.user_handle = std::move(*decoded);
  }
  out.raw_id = std::move(c.raw_id);
  out.type = std::move(c.type);
  out.client_data_json = std::move(c.client_data_json);
  out.client_data = std::move(c.client_data);
  out.authenticator_data = std::move(*authenticator_data);
  out.signature = std::move(*signature);
  return out;
}

}  // namespace authd::http
