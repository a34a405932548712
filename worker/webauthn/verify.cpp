#include "webauthn/verify.h"

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>
#include <sodium.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "webauthn/authenticator_data.h"

namespace authd::webauthn {
namespace {

void init_libfido2() {
  static std::once_flag once;
  std::call_once(once, [] { fido_init(0); });
}

struct CredFree {
  void operator()(fido_cred_t* c) const { fido_cred_free(&c); }
};
struct AssertFree {
  void operator()(fido_assert_t* a) const { fido_assert_free(&a); }
};
struct Es256Free {
  void operator()(es256_pk_t* k) const { es256_pk_free(&k); }
};
struct EddsaFree {
  void operator()(eddsa_pk_t* k) const { eddsa_pk_free(&k); }
};
struct Rs256Free {
  void operator()(rs256_pk_t* k) const { rs256_pk_free(&k); }
};

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool accepted(std::int64_t alg) {
  return std::find(kAcceptedAlgorithms.begin(), kAcceptedAlgorithms.end(), alg) !=
         kAcceptedAlgorithms.end();
}

// The steps both ceremonies share: the client data (but the challenge), then
// the authenticator data's reading, length, rpIdHash and flags.
std::optional<Check> check_client_data(const ClientData& data, std::string_view expected_type,
                                       const RelyingParty& rp) {
  if (data.type != expected_type) return Check::client_data_type;
  if (std::find(rp.origins.begin(), rp.origins.end(), data.origin) == rp.origins.end()) {
    return Check::origin;
  }
  // Only a top-level document of an accepted origin may register or log in
  // (an iframe elsewhere would have crossOrigin true and a topOrigin).
  if (data.cross_origin.value_or(false)) return Check::cross_origin;
  if (data.has_top_origin) return Check::top_origin;
  return std::nullopt;
}

std::optional<Check> check_authenticator_data(const AuthenticatorData& data, const RelyingParty& rp,
                                              bool require_uv) {
  if (data.trailing != 0) return Check::trailing_bytes;
  const std::string expected = sha256(rp.id);
  if (data.rp_id_hash.size() != expected.size() ||
      sodium_memcmp(data.rp_id_hash.data(), expected.data(), expected.size()) != 0) {
    return Check::rp_id;
  }
  if (!data.has(flag::kUserPresent)) return Check::user_present;
  if (require_uv && !data.has(flag::kUserVerified)) return Check::user_verified;
  if (data.has(flag::kBackedUp) && !data.has(flag::kBackupEligible)) return Check::backup_state;
  return std::nullopt;
}

// Verifies `signature` over authData ‖ SHA-256(clientDataJSON) with the key,
// through libfido2 (which also checks rpIdHash, UP and UV again).
bool signature_verifies(const Assertion& response, const RelyingParty& rp, const StoredKey& key,
                        bool require_uv) {
  std::unique_ptr<fido_assert_t, AssertFree> assert(fido_assert_new());
  if (!assert) return false;
  const auto& cdj = response.client_data_json;
  const auto& ad = response.authenticator_data;
  const auto& sig = response.signature;
  if (fido_assert_set_count(assert.get(), 1) != FIDO_OK ||
      fido_assert_set_rp(assert.get(), rp.id.c_str()) != FIDO_OK ||
      fido_assert_set_clientdata(assert.get(), bytes_of(cdj), cdj.size()) != FIDO_OK ||
      fido_assert_set_authdata_raw(assert.get(), 0, bytes_of(ad), ad.size()) != FIDO_OK ||
      fido_assert_set_sig(assert.get(), 0, bytes_of(sig), sig.size()) != FIDO_OK ||
      fido_assert_set_up(assert.get(), FIDO_OPT_TRUE) != FIDO_OK ||
      fido_assert_set_uv(assert.get(), require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK) {
    return false;
  }
  const auto& pk = key.public_key;
  switch (key.alg) {
    case kEs256: {
      std::unique_ptr<es256_pk_t, Es256Free> k(es256_pk_new());
      return k && es256_pk_from_ptr(k.get(), pk.data(), pk.size()) == FIDO_OK &&
             fido_assert_verify(assert.get(), 0, COSE_ES256, k.get()) == FIDO_OK;
    }
    case kEdDsa: {
      std::unique_ptr<eddsa_pk_t, EddsaFree> k(eddsa_pk_new());
      return k && eddsa_pk_from_ptr(k.get(), pk.data(), pk.size()) == FIDO_OK &&
             fido_assert_verify(assert.get(), 0, COSE_EDDSA, k.get()) == FIDO_OK;
    }
    case kRs256: {
      std::unique_ptr<rs256_pk_t, Rs256Free> k(rs256_pk_new());
      return k && rs256_pk_from_ptr(k.get(), pk.data(), pk.size()) == FIDO_OK &&
             fido_assert_verify(assert.get(), 0, COSE_RS256, k.get()) == FIDO_OK;
    }
    default:
      return false;
  }
}

}  // namespace

std::string sha256(std::string_view bytes) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()), bytes_of(bytes), bytes.size());
  return out;
}

std::variant<NewCredential, Check> verify_registration(const Registration& response,
                                                       const RelyingParty& rp) {
  init_libfido2();
  if (response.type != "public-key") return Check::credential_type;
  if (auto failed = check_client_data(response.client_data, "webauthn.create", rp)) {
    return *failed;
  }
  auto parsed = parse_authenticator_data(response.authenticator_data, /*registration=*/true);
  if (std::holds_alternative<AuthDataDefect>(parsed)) return Check::authenticator_data;
  const AuthenticatorData& data = std::get<AuthenticatorData>(parsed);
  if (auto failed = check_authenticator_data(data, rp, /*require_uv=*/true)) return *failed;
  const AttestedCredential& attested = *data.attested;
  if (!accepted(attested.alg)) return Check::algorithm;
  if (attested.credential_id.empty() || attested.credential_id.size() > kMaxCredentialIdBytes ||
      attested.credential_id != response.raw_id) {
    return Check::credential_id;
  }

  // libfido2 reads the key: the type first (it refuses a COSE_Key of
  // another algorithm), then the authenticator data as the authenticator
  // made it. Nothing is "verified" with fido_cred_verify: with attestation
  // `none` there is no statement to verify (it would answer -7).
  std::unique_ptr<fido_cred_t, CredFree> cred(fido_cred_new());
  if (!cred) return Check::public_key;
  const auto& ad = response.authenticator_data;
  if (fido_cred_set_type(cred.get(), static_cast<int>(attested.alg)) != FIDO_OK ||
      fido_cred_set_authdata_raw(cred.get(), bytes_of(ad), ad.size()) != FIDO_OK ||
      fido_cred_pubkey_len(cred.get()) == 0) {
    return Check::public_key;
  }
  NewCredential out;
  out.credential_id = attested.credential_id;
  out.alg = attested.alg;
  out.public_key = std::string(reinterpret_cast<const char*>(fido_cred_pubkey_ptr(cred.get())),
                               fido_cred_pubkey_len(cred.get()));
  out.sign_count = data.sign_count;
  out.backup_eligible = data.has(flag::kBackupEligible);
  out.backed_up = data.has(flag::kBackedUp);
  out.aaguid = attested.aaguid;
  return out;
}

std::variant<VerifiedAssertion, Check> verify_assertion(const Assertion& response,
                                                        const RelyingParty& rp,
                                                        const StoredKey& key,
                                                        bool require_user_verification) {
  init_libfido2();
  if (response.type != "public-key") return Check::credential_type;
  if (auto failed = check_client_data(response.client_data, "webauthn.get", rp)) return *failed;
  auto parsed = parse_authenticator_data(response.authenticator_data, /*registration=*/false);
  if (std::holds_alternative<AuthDataDefect>(parsed)) return Check::authenticator_data;
  const AuthenticatorData& data = std::get<AuthenticatorData>(parsed);
  if (auto failed = check_authenticator_data(data, rp, require_user_verification)) return *failed;
  // Eligibility is fixed when the credential is made (§6.1.3): a change is
  // another credential under the same id, or a lie.
  if (data.has(flag::kBackupEligible) != key.backup_eligible) return Check::backup_eligibility;
  if (!signature_verifies(response, rp, key, require_user_verification)) return Check::signature;
  VerifiedAssertion out;
  out.sign_count = data.sign_count;
  out.backed_up = data.has(flag::kBackedUp);
  out.user_verified = data.has(flag::kUserVerified);
  return out;
}

std::string_view check_name(Check check) {
  switch (check) {
    case Check::credential_type:
      return "credential_type";
    case Check::client_data_type:
      return "client_data_type";
    case Check::challenge:
      return "challenge";
    case Check::origin:
      return "origin";
    case Check::cross_origin:
      return "cross_origin";
    case Check::top_origin:
      return "top_origin";
    case Check::authenticator_data:
      return "authenticator_data";
    case Check::trailing_bytes:
      return "trailing_bytes";
    case Check::rp_id:
      return "rp_id";
    case Check::user_present:
      return "user_present";
    case Check::user_verified:
      return "user_verified";
    case Check::backup_state:
      return "backup_state";
    case Check::backup_eligibility:
      return "backup_eligibility";
    case Check::algorithm:
      return "algorithm";
    case Check::credential_id:
      return "credential_id";
    case Check::public_key:
      return "public_key";
    case Check::unknown_credential:
      return "unknown_credential";
    case Check::user_handle:
      return "user_handle";
    case Check::signature:
      return "signature";
    case Check::counter:
      return "counter";
  }
  return "unknown";
}

std::string_view check_detail(Check check) {
  switch (check) {
    case Check::credential_type:
      return "The credential's type is not \"public-key\".";
    case Check::client_data_type:
      return "The client data's type is not the one of this ceremony.";
    case Check::challenge:
      return "The challenge was not issued for this, or is spent or expired: ask for new "
             "options.";
    case Check::origin:
      return "The origin is not one this server accepts (WEBAUTHN_ORIGINS).";
    case Check::cross_origin:
      return "The ceremony ran in a cross-origin frame.";
    case Check::top_origin:
      return "The ceremony ran in a frame (topOrigin is present).";
    case Check::authenticator_data:
      return "The authenticator data cannot be read.";
    case Check::trailing_bytes:
      return "The authenticator data is longer than its contents.";
    case Check::rp_id:
      return "The authenticator data is for another relying party (rpIdHash).";
    case Check::user_present:
      return "The authenticator did not see the user (UP unset).";
    case Check::user_verified:
      return "The authenticator did not verify the user (UV unset).";
    case Check::backup_state:
      return "The authenticator data says backed up without backup eligibility (BS without "
             "BE).";
    case Check::backup_eligibility:
      return "The backup eligibility differs from the registered one.";
    case Check::algorithm:
      return "The key's algorithm was not offered (EdDSA, ES256 or RS256).";
    case Check::credential_id:
      return "The credential id is too long or differs from the authenticator's.";
    case Check::public_key:
      return "The credential public key cannot be read.";
    case Check::unknown_credential:
      return "This passkey is not registered.";
    case Check::user_handle:
      return "The user handle is missing or does not own this passkey.";
    case Check::signature:
      return "The signature does not verify.";
    case Check::counter:
      return "The signature counter did not grow: this authenticator may have been cloned.";
  }
  return "The passkey failed verification.";
}

}  // namespace authd::webauthn
