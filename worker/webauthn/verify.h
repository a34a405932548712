#pragma once
// The relying party's checks of WebAuthn Level 3: §7.1 (registering a new
// credential) and §7.2 (verifying an assertion), each step its own Check so
// that a refusal says which one failed. The challenge, the credential's
// owner, its user handle and the signature counter need the database and
// are the caller's (auth/passkeys.cpp); everything here is pure.
//
// libfido2 verifies assertion signatures (EdDSA, ES256, RS256) and parses
// COSE keys; what it does not do (origins, client data, rpIdHash on
// registration, BE/BS, exact lengths, the algorithm allow-list) is done here.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "webauthn/client_data.h"

namespace authd::webauthn {

// COSE algorithms (RFC 9053, IANA): the ones offered and accepted, in the
// order offered. RS256 only verifies authenticators' signatures (Windows
// Hello keys use it); ES384 and the rest are refused.
inline constexpr std::int64_t kEdDsa = -8;
inline constexpr std::int64_t kEs256 = -7;
inline constexpr std::int64_t kRs256 = -257;
inline constexpr std::array<std::int64_t, 3> kAcceptedAlgorithms{kEdDsa, kEs256, kRs256};

// A credential id longer than this is refused (WebAuthn L3 §7.1 step 25).
inline constexpr std::size_t kMaxCredentialIdBytes = 1023;

struct RelyingParty {
  std::string id;                    // WEBAUTHN_RP_ID
  std::string name;                  // WEBAUTHN_RP_NAME
  std::vector<std::string> origins;  // WEBAUTHN_ORIGINS, compared exactly
};

// The step that failed.
enum class Check {
  credential_type,     // `type` is not "public-key"
  client_data_type,    // not webauthn.create / webauthn.get
  challenge,           // not issued, spent, expired, or not for this
  origin,              // not one of WEBAUTHN_ORIGINS
  cross_origin,        // crossOrigin true
  top_origin,          // topOrigin present
  authenticator_data,  // cannot be read (truncated, AT where it does not belong, ...)
  trailing_bytes,      // longer than its contents
  rp_id,               // rpIdHash is not SHA-256 of the RP id
  user_present,        // UP unset
  user_verified,       // UV unset where it is required
  backup_state,        // BS set without BE
  backup_eligibility,  // BE differs from what was registered
  algorithm,           // not EdDSA, ES256 or RS256
  credential_id,       // rawId differs from the authenticator's, or is too long
  public_key,          // the COSE_Key does not hold a key of its algorithm
  unknown_credential,  // no such passkey (or not one of this account's)
  user_handle,         // absent, or not the owner's
  signature,           // does not verify with the stored key
  counter,             // did not grow (a device-bound passkey: a clone?)
};

// A short name for logs and audit lines ("rp_id"), and a sentence for the
// problem's detail.
std::string_view check_name(Check check);
std::string_view check_detail(Check check);

// A registration response (PublicKeyCredential with an
// AuthenticatorAttestationResponse), decoded and split: what
// parse_client_data and parse_attestation_object made of it.
struct Registration {
  std::string raw_id;
  std::string type;
  std::string client_data_json;
  ClientData client_data;
  std::string fmt;
  std::string authenticator_data;
};

struct NewCredential {
  std::string credential_id;
  std::int64_t alg = 0;
  std::string public_key;  // as libfido2 takes it back: x‖y, the Ed25519 key, or n‖e
  std::uint32_t sign_count = 0;
  bool backup_eligible = false;
  bool backed_up = false;
  std::string aaguid;
};

// §7.1 from step 7 on, but the challenge (step 9).
std::variant<NewCredential, Check> verify_registration(const Registration& response,
                                                       const RelyingParty& rp);

// An assertion response (PublicKeyCredential with an
// AuthenticatorAssertionResponse), decoded.
struct Assertion {
  std::string raw_id;
  std::string type;
  std::string client_data_json;
  ClientData client_data;
  std::string authenticator_data;
  std::string signature;
  std::optional<std::string> user_handle;
};

// What the server holds of a registered passkey.
struct StoredKey {
  std::int64_t alg = 0;
  std::string public_key;
  bool backup_eligible = false;
};

struct VerifiedAssertion {
  std::uint32_t sign_count = 0;
  bool backed_up = false;
  bool user_verified = false;
};

// §7.2 from step 10 on, but the challenge (step 12) and the counter (step
// 22): `require_user_verification` for a passwordless login, not for a
// second factor.
std::variant<VerifiedAssertion, Check> verify_assertion(const Assertion& response,
                                                        const RelyingParty& rp,
                                                        const StoredKey& key,
                                                        bool require_user_verification);

// SHA-256, raw (challenges are stored by it; rpIdHash is one).
std::string sha256(std::string_view bytes);

}  // namespace authd::webauthn
