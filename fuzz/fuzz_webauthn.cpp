// libFuzzer target: what a client sends as a passkey credential, read and
// verified (the webauthn room, and the HTTP layer's reading of the JSON
// form). The first byte picks what the rest is:
//   0  clientDataJSON                       (parse_client_data)
//   1  an attestationObject                 (split, then §7.1 verified)
//   2  authenticator data                   (parse_authenticator_data, both kinds)
//   3  an assertion: key selector, 2-byte length + clientDataJSON, 2-byte
//      length + authenticator data, the signature   (§7.2 verified)
//   4  a credential in WebAuthn's JSON form (read as registration and as assertion)
// Beyond "no crash, no sanitizer report", the oracle: whatever verifies
// must hold every check, re-judged here independently (type, origin, no
// cross-origin frame, rpIdHash, UP/UV, BS only with BE, exact length, an
// accepted algorithm). The keys are fixed (fuzz/make_corpus.py signs the
// seeds with their private halves).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/passkey_credential.h"
#include "util/strict_json.h"
#include "webauthn/attestation_object.h"
#include "webauthn/authenticator_data.h"
#include "webauthn/client_data.h"
#include "webauthn/verify.h"

namespace {

namespace wa = authd::webauthn;

[[noreturn]] void broken(const char* rule) {
  std::fprintf(stderr, "webauthn rule broken: %s\n", rule);
  std::abort();
}

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

const wa::RelyingParty& rp() {
  static const wa::RelyingParty party{"localhost", "fuzz", {"http://localhost:8080"}};
  return party;
}

// The seeds' keys (fuzz/make_corpus.py derives the private halves).
const wa::StoredKey& key(unsigned selector) {
  static const wa::StoredKey eddsa{
      wa::kEdDsa, unhex("8c698ecd6d352ae72e785f34497725521206738cd85f1684078e4f72b4c7e242"), false};
  static const wa::StoredKey es256{
      wa::kEs256,
      unhex("d6c84dfa6d6ede6c14d967d3b42ba2d6caaa784030f007bd7cf02a248dd7df87"
            "45248e51184f4e3df40edd8fb0ceaa12dcd6f83c23c6ca4d86c75b72269d6c1c"),
      false};
  return selector % 2 == 0 ? eddsa : es256;
}

void check_accepted_data(std::string_view raw, bool registration, bool require_uv) {
  auto parsed = wa::parse_authenticator_data(raw, registration);
  const auto* data = std::get_if<wa::AuthenticatorData>(&parsed);
  if (data == nullptr) broken("accepted authenticator data that does not read");
  if (data->trailing != 0) broken("accepted trailing bytes");
  if (data->rp_id_hash != wa::sha256(rp().id)) broken("accepted another rpIdHash");
  if (!data->has(wa::flag::kUserPresent)) broken("accepted without UP");
  if (require_uv && !data->has(wa::flag::kUserVerified)) broken("accepted without UV");
  if (data->has(wa::flag::kBackedUp) && !data->has(wa::flag::kBackupEligible)) {
    broken("accepted BS without BE");
  }
}

void check_accepted_client_data(const wa::ClientData& data, std::string_view type) {
  if (data.type != type) broken("accepted another client data type");
  if (data.origin != rp().origins.front()) broken("accepted another origin");
  if (data.cross_origin.value_or(false) || data.has_top_origin) broken("accepted a frame");
}

void registration(std::string_view attestation_bytes) {
  auto attestation = wa::parse_attestation_object(attestation_bytes);
  if (!attestation) return;
  wa::Registration r;
  r.type = "public-key";
  r.client_data_json =
      R"({"type":"webauthn.create","challenge":"Y2hhbGxlbmdl","origin":"http://localhost:8080"})";
  r.client_data = *wa::parse_client_data(r.client_data_json);
  r.fmt = attestation->fmt;
  r.authenticator_data = attestation->authenticator_data;
  auto parsed = wa::parse_authenticator_data(r.authenticator_data, true);
  if (const auto* d = std::get_if<wa::AuthenticatorData>(&parsed)) {
    r.raw_id = d->attested->credential_id;
  }
  auto verified = wa::verify_registration(r, rp());
  if (const auto* c = std::get_if<wa::NewCredential>(&verified)) {
    check_accepted_data(r.authenticator_data, true, true);
    if (c->alg != wa::kEdDsa && c->alg != wa::kEs256 && c->alg != wa::kRs256) {
      broken("accepted an algorithm not offered");
    }
    if (c->credential_id.empty() || c->credential_id.size() > wa::kMaxCredentialIdBytes) {
      broken("accepted a credential id of a bad length");
    }
    if (c->public_key.empty()) broken("accepted without a public key");
  }
}

bool take(std::string_view& in, std::string* out) {
  if (in.size() < 2) return false;
  const std::size_t n = static_cast<unsigned char>(in[0]) << 8 | static_cast<unsigned char>(in[1]);
  in.remove_prefix(2);
  if (in.size() < n) return false;
  *out = std::string(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

void assertion(std::string_view in) {
  if (in.empty()) return;
  const unsigned selector = static_cast<unsigned char>(in[0]);
  in.remove_prefix(1);
  wa::Assertion a;
  if (!take(in, &a.client_data_json) || !take(in, &a.authenticator_data)) return;
  a.signature = std::string(in);
  a.type = "public-key";
  auto data = wa::parse_client_data(a.client_data_json);
  if (!data) return;
  a.client_data = *data;
  const bool require_uv = (selector & 2) != 0;
  auto verified = wa::verify_assertion(a, rp(), key(selector), require_uv);
  if (std::holds_alternative<wa::VerifiedAssertion>(verified)) {
    check_accepted_client_data(a.client_data, "webauthn.get");
    check_accepted_data(a.authenticator_data, false, require_uv);
  }
}

void json_credential(std::string_view text) {
  auto doc = authd::parse_strict_object(text);
  if (!doc) return;
  auto reg = authd::http::read_registration_credential(*doc, "credential");
  if (auto* r = std::get_if<authd::http::RegistrationCredential>(&reg)) {
    if (wa::verify_registration(r->response, rp()).index() == 0) {
      check_accepted_client_data(r->response.client_data, "webauthn.create");
      check_accepted_data(r->response.authenticator_data, true, true);
    }
  }
  auto got = authd::http::read_assertion_credential(*doc, "passkey");
  if (auto* a = std::get_if<wa::Assertion>(&got)) {
    if (wa::verify_assertion(*a, rp(), key(0), true).index() == 0) {
      check_accepted_client_data(a->client_data, "webauthn.get");
      check_accepted_data(a->authenticator_data, false, true);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      (void)wa::parse_client_data(in);
      break;
    case 1:
      registration(in);
      break;
    case 2:
      (void)wa::parse_authenticator_data(in, true);
      (void)wa::parse_authenticator_data(in, false);
      break;
    case 3:
      assertion(in);
      break;
    case 4:
      json_credential(in);
      break;
  }
  return 0;
}
