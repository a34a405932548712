// WebAuthn L3 §7.1 and §7.2, each step on its own: a real key signs, one
// field is spoiled, and exactly that step refuses.
#include "webauthn/verify.h"

#include <gtest/gtest.h>

#include "fakes/soft_authenticator.h"
#include "webauthn/authenticator_data.h"

namespace authd::webauthn {
namespace {

using testing::KeyKind;
using testing::SoftAuthenticator;

RelyingParty localhost_rp() {
  return RelyingParty{"localhost", "authd", {"http://localhost:8080", "https://localhost:8443"}};
}

template <class T>
std::optional<Check> refused(const std::variant<T, Check>& v) {
  if (const Check* c = std::get_if<Check>(&v)) return *c;
  return std::nullopt;
}

std::optional<Check> register_with(const SoftAuthenticator::Create& c,
                                   KeyKind kind = KeyKind::es256) {
  SoftAuthenticator a(kind);
  return refused(verify_registration(a.registration(c), localhost_rp()));
}

// --- registration ------------------------------------------------------------------

class EachAlgorithm : public ::testing::TestWithParam<KeyKind> {};

TEST_P(EachAlgorithm, RegistersThenLogsInWithTheStoredKey) {
  SoftAuthenticator a(GetParam());
  auto made = verify_registration(a.registration({}), localhost_rp());
  ASSERT_FALSE(refused(made)) << check_name(*refused(made));
  const NewCredential& cred = std::get<NewCredential>(made);
  EXPECT_EQ(cred.credential_id, a.credential_id());
  EXPECT_EQ(cred.alg, testing::cose_alg(GetParam()));
  const std::size_t key_bytes = GetParam() == KeyKind::es256   ? 64
                                : GetParam() == KeyKind::eddsa ? 32
                                                               : 256 + 3;
  EXPECT_EQ(cred.public_key.size(), key_bytes);
  EXPECT_EQ(cred.aaguid, std::string(16, '\x01'));

  const StoredKey key{cred.alg, cred.public_key, cred.backup_eligible};
  auto used = verify_assertion(a.assertion({}), localhost_rp(), key, true);
  ASSERT_FALSE(refused(used)) << check_name(*refused(used));
  EXPECT_EQ(std::get<VerifiedAssertion>(used).sign_count, 1u);
  EXPECT_TRUE(std::get<VerifiedAssertion>(used).user_verified);
}

INSTANTIATE_TEST_SUITE_P(Webauthn, EachAlgorithm,
                         ::testing::Values(KeyKind::es256, KeyKind::eddsa, KeyKind::rs256));

TEST(Registration, RefusesAnAlgorithmNotOffered) {
  EXPECT_EQ(register_with({}, KeyKind::es384), Check::algorithm);
}

TEST(Registration, RefusesAKeyLabelledWithAnotherAlgorithm) {
  // A P-256 key that claims to be EdDSA: libfido2 refuses to read it so.
  SoftAuthenticator::Create c;
  c.alg = kEdDsa;
  EXPECT_EQ(register_with(c), Check::public_key);
  c.alg = -35;
  EXPECT_EQ(register_with(c), Check::algorithm);
  c.alg = 0;  // no alg label's worth
  EXPECT_EQ(register_with(c), Check::algorithm);
}

TEST(Registration, RefusesAnotherCredentialType) {
  SoftAuthenticator a;
  auto r = a.registration({});
  r.type = "password";
  EXPECT_EQ(refused(verify_registration(r, localhost_rp())), Check::credential_type);
}

TEST(Registration, RefusesTheClientDataOfAnAssertion) {
  SoftAuthenticator::Create c;
  c.type = "webauthn.get";
  EXPECT_EQ(register_with(c), Check::client_data_type);
}

TEST(Registration, RefusesAnotherOriginEvenAnotherPort) {
  SoftAuthenticator::Create c;
  c.origin = "http://localhost:8081";
  EXPECT_EQ(register_with(c), Check::origin);
  c.origin = "http://localhost:8080/";
  EXPECT_EQ(register_with(c), Check::origin);
  c.origin = "HTTP://LOCALHOST:8080";
  EXPECT_EQ(register_with(c), Check::origin);
  c.origin = "https://localhost:8443";
  EXPECT_EQ(register_with(c), std::nullopt);
}

TEST(Registration, RefusesACrossOriginFrame) {
  SoftAuthenticator::Create c;
  c.client_data_extra = ",\"crossOrigin\":true";
  EXPECT_EQ(register_with(c), Check::cross_origin);
  c.client_data_extra = ",\"crossOrigin\":false";
  EXPECT_EQ(register_with(c), std::nullopt);
  c.client_data_extra = ",\"crossOrigin\":false,\"topOrigin\":\"https://evil.example\"";
  EXPECT_EQ(register_with(c), Check::top_origin);
}

TEST(Registration, RefusesAnotherRelyingParty) {
  SoftAuthenticator::Create c;
  c.rp_id = "example.com";
  EXPECT_EQ(register_with(c), Check::rp_id);
}

TEST(Registration, NeedsUserPresenceAndVerification) {
  SoftAuthenticator::Create c;
  c.flags = flag::kUserVerified | flag::kAttestedData;
  EXPECT_EQ(register_with(c), Check::user_present);
  c.flags = flag::kUserPresent | flag::kAttestedData;
  EXPECT_EQ(register_with(c), Check::user_verified);
}

TEST(Registration, RefusesBackedUpWithoutEligibility) {
  SoftAuthenticator::Create c;
  c.flags |= flag::kBackedUp;
  EXPECT_EQ(register_with(c), Check::backup_state);
  c.flags |= flag::kBackupEligible;
  SoftAuthenticator a;
  auto made = verify_registration(a.registration(c), localhost_rp());
  ASSERT_FALSE(refused(made));
  EXPECT_TRUE(std::get<NewCredential>(made).backup_eligible);
  EXPECT_TRUE(std::get<NewCredential>(made).backed_up);
}

TEST(Registration, RefusesTrailingBytes) {
  SoftAuthenticator::Create c;
  c.trailing = std::string(1, '\0');
  EXPECT_EQ(register_with(c), Check::trailing_bytes);
  c.trailing = "\xa0";  // even a well-formed CBOR map, without ED
  EXPECT_EQ(register_with(c), Check::trailing_bytes);
}

TEST(Registration, AcceptsExtensionsWhenFlagged) {
  SoftAuthenticator::Create c;
  // {"credProtect": 2}: an authenticator may add it unasked.
  c.extensions =
      testing::cbor::map(1) + testing::cbor::text("credProtect") + testing::cbor::integer(2);
  EXPECT_EQ(register_with(c), std::nullopt);
  c.extensions = "\x01";  // ED set, but no map follows
  EXPECT_EQ(register_with(c), Check::authenticator_data);
}

TEST(Registration, NeedsAttestedCredentialData) {
  SoftAuthenticator::Create c;
  c.flags = flag::kUserPresent | flag::kUserVerified;
  EXPECT_EQ(register_with(c), Check::authenticator_data);
}

TEST(Registration, RefusesTruncatedAuthenticatorData) {
  SoftAuthenticator a;
  auto r = a.registration({});
  for (std::size_t cut : {std::size_t{0}, std::size_t{36}, std::size_t{40}, std::size_t{60},
                          r.authenticator_data.size() - 1}) {
    auto spoiled = r;
    spoiled.authenticator_data.resize(cut);
    EXPECT_EQ(refused(verify_registration(spoiled, localhost_rp())), Check::authenticator_data)
        << cut;
  }
}

TEST(Registration, TheCredentialIdMustBeTheAuthenticatorsAndAtMost1023Bytes) {
  SoftAuthenticator a;
  auto r = a.registration({});
  r.raw_id += "x";
  EXPECT_EQ(refused(verify_registration(r, localhost_rp())), Check::credential_id);

  SoftAuthenticator longest(KeyKind::es256, std::string(1023, 'L'));
  EXPECT_FALSE(refused(verify_registration(longest.registration({}), localhost_rp())));
  SoftAuthenticator too_long(KeyKind::es256, std::string(1024, 'L'));
  EXPECT_EQ(refused(verify_registration(too_long.registration({}), localhost_rp())),
            Check::credential_id);
}

TEST(Registration, AnyAttestationFormatIsAcceptedAndNotJudged) {
  SoftAuthenticator::Create c;
  c.fmt = "packed";
  EXPECT_EQ(register_with(c), std::nullopt);
}

// --- assertion -----------------------------------------------------------------------

struct Registered {
  SoftAuthenticator authenticator;
  StoredKey key;
};

Registered registered(KeyKind kind = KeyKind::es256, bool backup_eligible = false) {
  SoftAuthenticator a(kind);
  SoftAuthenticator::Create c;
  if (backup_eligible) c.flags |= flag::kBackupEligible;
  auto made = std::get<NewCredential>(verify_registration(a.registration(c), localhost_rp()));
  return {a, StoredKey{made.alg, made.public_key, made.backup_eligible}};
}

std::optional<Check> log_in_with(const SoftAuthenticator::Get& g, bool require_uv = true) {
  auto r = registered();
  return refused(verify_assertion(r.authenticator.assertion(g), localhost_rp(), r.key, require_uv));
}

TEST(Assertion, RefusesTheClientDataOfARegistration) {
  SoftAuthenticator::Get g;
  g.type = "webauthn.create";
  EXPECT_EQ(log_in_with(g), Check::client_data_type);
}

TEST(Assertion, RefusesAnotherOrigin) {
  SoftAuthenticator::Get g;
  g.origin = "http://localhost:9999";
  EXPECT_EQ(log_in_with(g), Check::origin);
}

TEST(Assertion, RefusesCrossOriginAndTopOrigin) {
  SoftAuthenticator::Get g;
  g.client_data_extra = ",\"crossOrigin\":true";
  EXPECT_EQ(log_in_with(g), Check::cross_origin);
  g.client_data_extra = ",\"topOrigin\":\"http://localhost:8080\"";
  EXPECT_EQ(log_in_with(g), Check::top_origin);
}

TEST(Assertion, RefusesAnotherRelyingParty) {
  SoftAuthenticator::Get g;
  g.rp_id = "localhost.example";
  EXPECT_EQ(log_in_with(g), Check::rp_id);
}

TEST(Assertion, UserPresenceAlwaysUserVerificationWhenAsked) {
  SoftAuthenticator::Get g;
  g.flags = flag::kUserVerified;
  EXPECT_EQ(log_in_with(g), Check::user_present);
  EXPECT_EQ(log_in_with(g, false), Check::user_present);
  g.flags = flag::kUserPresent;
  EXPECT_EQ(log_in_with(g), Check::user_verified);
  EXPECT_EQ(log_in_with(g, false), std::nullopt);  // a second factor needs UP only
}

TEST(Assertion, RefusesBackedUpWithoutEligibilityAndAChangedEligibility) {
  SoftAuthenticator::Get g;
  g.flags |= flag::kBackedUp;
  EXPECT_EQ(log_in_with(g), Check::backup_state);
  g.flags = flag::kUserPresent | flag::kUserVerified | flag::kBackupEligible;
  EXPECT_EQ(log_in_with(g), Check::backup_eligibility);

  auto synced = registered(KeyKind::es256, /*backup_eligible=*/true);
  SoftAuthenticator::Get s;
  s.flags |= flag::kBackupEligible | flag::kBackedUp;
  auto ok = verify_assertion(synced.authenticator.assertion(s), localhost_rp(), synced.key, true);
  ASSERT_FALSE(refused(ok));
  EXPECT_TRUE(std::get<VerifiedAssertion>(ok).backed_up);
  s.flags = flag::kUserPresent | flag::kUserVerified;  // BE dropped
  EXPECT_EQ(refused(verify_assertion(synced.authenticator.assertion(s), localhost_rp(), synced.key,
                                     true)),
            Check::backup_eligibility);
}

TEST(Assertion, RefusesTrailingBytesEvenWhenSigned) {
  SoftAuthenticator::Get g;
  g.trailing = "\xa0";
  EXPECT_EQ(log_in_with(g), Check::trailing_bytes);
}

TEST(Assertion, RefusesAttestedDataInAnAssertion) {
  SoftAuthenticator::Get g;
  g.flags |= flag::kAttestedData;
  EXPECT_EQ(log_in_with(g), Check::authenticator_data);
}

class EachAlgorithmSignature : public ::testing::TestWithParam<KeyKind> {};

TEST_P(EachAlgorithmSignature, RefusesABadSignature) {
  auto r = registered(GetParam());
  SoftAuthenticator::Get g;
  g.bad_signature = true;
  EXPECT_EQ(refused(verify_assertion(r.authenticator.assertion(g), localhost_rp(), r.key, true)),
            Check::signature);
  // Signed over other client data than the one sent.
  auto a = r.authenticator.assertion({});
  a.client_data_json = SoftAuthenticator::client_data("webauthn.get", a.client_data.challenge,
                                                      a.client_data.origin, ",\"x\":1");
  EXPECT_EQ(refused(verify_assertion(a, localhost_rp(), r.key, true)), Check::signature);
  // No signature at all.
  a = r.authenticator.assertion({});
  a.signature.clear();
  EXPECT_EQ(refused(verify_assertion(a, localhost_rp(), r.key, true)), Check::signature);
}

INSTANTIATE_TEST_SUITE_P(Webauthn, EachAlgorithmSignature,
                         ::testing::Values(KeyKind::es256, KeyKind::eddsa, KeyKind::rs256));

TEST(Assertion, RefusesASignatureOfAnotherKey) {
  auto mine = registered(KeyKind::es256);
  auto other = registered(KeyKind::eddsa);
  EXPECT_EQ(
      refused(verify_assertion(mine.authenticator.assertion({}), localhost_rp(), other.key, true)),
      Check::signature);
  StoredKey garbage{kEs256, "not a key", false};
  EXPECT_EQ(
      refused(verify_assertion(mine.authenticator.assertion({}), localhost_rp(), garbage, true)),
      Check::signature);
}

TEST(Assertion, RefusesAnotherCredentialType) {
  auto r = registered();
  auto a = r.authenticator.assertion({});
  a.type = "public-key ";
  EXPECT_EQ(refused(verify_assertion(a, localhost_rp(), r.key, true)), Check::credential_type);
}

TEST(Checks, EachHasANameAndADetail) {
  for (int i = 0; i <= static_cast<int>(Check::counter); ++i) {
    const auto c = static_cast<Check>(i);
    EXPECT_NE(check_name(c), "unknown");
    EXPECT_FALSE(check_detail(c).empty());
  }
}

}  // namespace
}  // namespace authd::webauthn
