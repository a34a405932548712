// Reading what a client sends: clientDataJSON, the attestationObject's CBOR
// and the authenticator data. What cannot be read is a malformed credential
// (400), told apart from what reads but fails a check.
#include <gtest/gtest.h>

#include "fakes/soft_authenticator.h"
#include "webauthn/attestation_object.h"
#include "webauthn/authenticator_data.h"
#include "webauthn/cbor.h"
#include "webauthn/client_data.h"

namespace authd::webauthn {
namespace {

namespace cb = testing::cbor;

TEST(ClientData, ReadsTheMembers) {
  auto d = parse_client_data(
      R"({"type":"webauthn.get","challenge":"abc","origin":"http://localhost:1","crossOrigin":false,"other":[1,2]})");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, "webauthn.get");
  EXPECT_EQ(d->challenge, "abc");
  EXPECT_EQ(d->origin, "http://localhost:1");
  EXPECT_EQ(d->cross_origin, false);
  EXPECT_FALSE(d->has_top_origin);
}

TEST(ClientData, RefusesWhatIsNotStrictJsonOfTheRightShape) {
  for (const char* bad : {"", "[]", "not json", R"({"type":"webauthn.get","challenge":"a"})",
                          R"({"type":1,"challenge":"a","origin":"o"})",
                          R"({"type":"t","challenge":"a","origin":"o","crossOrigin":"true"})",
                          R"({"type":"t","challenge":"a","origin":"o","topOrigin":1})",
                          R"({"type":"t","type":"u","challenge":"a","origin":"o"})",
                          "{\"type\":\"t\xff\",\"challenge\":\"a\",\"origin\":\"o\"}",
                          R"({"type":"t","challenge":"a","origin":"o"} x)"}) {
    EXPECT_FALSE(parse_client_data(bad)) << bad;
  }
}

TEST(AttestationObject, SplitsTheThreeMembers) {
  const std::string obj = cb::map(3) + cb::text("fmt") + cb::text("packed") + cb::text("attStmt") +
                          cb::map(1) + cb::text("alg") + cb::integer(-7) + cb::text("authData") +
                          cb::bytes("AUTH");
  auto a = parse_attestation_object(obj);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->fmt, "packed");
  EXPECT_EQ(a->authenticator_data, "AUTH");
}

TEST(AttestationObject, RefusesMalformedCbor) {
  const std::string good = testing::SoftAuthenticator::attestation_object("none", "AUTH");
  ASSERT_TRUE(parse_attestation_object(good));
  EXPECT_FALSE(parse_attestation_object(""));
  EXPECT_FALSE(parse_attestation_object(good + std::string(1, '\0')));      // trailing
  EXPECT_FALSE(parse_attestation_object(good.substr(0, good.size() - 1)));  // cut
  EXPECT_FALSE(parse_attestation_object(cb::bytes("AUTH")));                // not a map
  // The same members in an indefinite-length map (0xbf ... 0xff).
  EXPECT_FALSE(parse_attestation_object("\xbf" + good.substr(1) + "\xff"));
  // authData as an indefinite byte string.
  EXPECT_FALSE(parse_attestation_object(cb::map(3) + cb::text("fmt") + cb::text("none") +
                                        cb::text("attStmt") + cb::map(0) + cb::text("authData") +
                                        "\x5f" + cb::bytes("AU") + cb::bytes("TH") + "\xff"));
  // A tag around authData.
  EXPECT_FALSE(parse_attestation_object(cb::map(3) + cb::text("fmt") + cb::text("none") +
                                        cb::text("attStmt") + cb::map(0) + cb::text("authData") +
                                        "\xc2" + cb::bytes("AUTH")));
  // A member of the wrong type, or missing.
  EXPECT_FALSE(parse_attestation_object(cb::map(3) + cb::text("fmt") + cb::integer(1) +
                                        cb::text("attStmt") + cb::map(0) + cb::text("authData") +
                                        cb::bytes("AUTH")));
  EXPECT_FALSE(parse_attestation_object(cb::map(2) + cb::text("fmt") + cb::text("none") +
                                        cb::text("authData") + cb::bytes("AUTH")));
}

TEST(Cbor, RefusesNestingBeyondSixteenLevels) {
  std::string deep;
  for (int i = 0; i < 17; ++i)
    deep += "\x81";  // an array of one
  const std::string zero(1, '\0');
  EXPECT_FALSE(load_cbor(deep + zero));
  std::string shallow;
  for (int i = 0; i < 16; ++i)
    shallow += "\x81";
  EXPECT_TRUE(load_cbor(shallow + zero));
  // Very deep input is answered (and refused), not a crash.
  EXPECT_FALSE(load_cbor(std::string(12000, '\x81') + zero));
}

TEST(Cbor, DeclaredLengthsMustFitTheBytesLeft) {
  // Found by fuzz_webauthn: an array header "of 2.6 billion items" made
  // libcbor allocate 20 GB for a 130-byte input.
  EXPECT_FALSE(load_cbor_prefix("\x9a\x9a\x9a\x9a\x9a\x01"));
  EXPECT_FALSE(load_cbor_prefix(std::string("\xbb\x00\x00\x00\x10\x00\x00\x00\x00", 9) + "ab"));
  EXPECT_FALSE(
      load_cbor_prefix("\x5a\x7f\xff\xff\xff"
                       "abc"));            // longer than what is left
  EXPECT_FALSE(load_cbor_prefix("\x1c"));  // reserved additional information
  EXPECT_FALSE(load_cbor_prefix("\xff"));  // a lone break
  // Lengths that fit are read, whatever their width.
  EXPECT_EQ(load_cbor_prefix(std::string("\x59\x00\x02xy!", 6))->length, 5u);
  EXPECT_EQ(load_cbor_prefix(std::string("\x82\x18\x20\xf9\x3c\x00", 6))->length, 6u);
}

TEST(Cbor, ReadsIntegersOfEveryWidth) {
  EXPECT_EQ(cbor_int(load_cbor(cb::integer(-257))->get()), -257);
  EXPECT_EQ(cbor_int(load_cbor(cb::integer(70000))->get()), 70000);
  EXPECT_EQ(cbor_int(load_cbor("\x3b\xff\xff\xff\xff\xff\xff\xff\xff")->get()), std::nullopt);
  EXPECT_EQ(cbor_int(load_cbor(cb::text("3"))->get()), std::nullopt);
}

TEST(AuthenticatorData, ReadsAnAssertionsFields) {
  const std::string raw = std::string(32, 'h') + "\x1d" + std::string("\x00\x00\x01\x02", 4);
  auto parsed = parse_authenticator_data(raw, false);
  ASSERT_TRUE(std::holds_alternative<AuthenticatorData>(parsed));
  const auto& d = std::get<AuthenticatorData>(parsed);
  EXPECT_EQ(d.rp_id_hash, std::string(32, 'h'));
  EXPECT_EQ(d.flags, 0x1d);
  EXPECT_EQ(d.sign_count, 258u);
  EXPECT_FALSE(d.attested);
  EXPECT_EQ(d.trailing, 0u);
  auto longer = parse_authenticator_data(raw + "xy", false);
  EXPECT_EQ(std::get<AuthenticatorData>(longer).trailing, 2u);
}

TEST(AuthenticatorData, SaysWhatIsWrong) {
  const std::string fixed = std::string(32, 'h') + "\x45" + std::string(4, '\0');
  EXPECT_EQ(std::get<AuthDataDefect>(parse_authenticator_data(fixed.substr(0, 36), false)),
            AuthDataDefect::too_short);
  EXPECT_EQ(std::get<AuthDataDefect>(parse_authenticator_data(fixed, false)),
            AuthDataDefect::unexpected_attested);
  const std::string no_at = std::string(32, 'h') + "\x05" + std::string(4, '\0');
  EXPECT_EQ(std::get<AuthDataDefect>(parse_authenticator_data(no_at, true)),
            AuthDataDefect::no_attested_data);
  // AT with a credential id longer than what follows.
  EXPECT_EQ(std::get<AuthDataDefect>(parse_authenticator_data(
                fixed + std::string(16, 'a') + "\x00\x10" + "short", true)),
            AuthDataDefect::too_short);
  // AT with a key that is not a CBOR map.
  EXPECT_EQ(
      std::get<AuthDataDefect>(parse_authenticator_data(
          fixed + std::string(16, 'a') + std::string("\x00\x01", 2) + "I" + cb::bytes("k"), true)),
      AuthDataDefect::bad_public_key);
  const std::string ed = std::string(32, 'h') + "\x85" + std::string(4, '\0');
  EXPECT_EQ(std::get<AuthDataDefect>(parse_authenticator_data(ed, false)),
            AuthDataDefect::bad_extensions);
  EXPECT_TRUE(
      std::holds_alternative<AuthenticatorData>(parse_authenticator_data(ed + cb::map(0), false)));
}

TEST(AuthenticatorData, ReadsTheAttestedCredential) {
  testing::SoftAuthenticator a(testing::KeyKind::eddsa, "ID-1");
  auto parsed = parse_authenticator_data(a.registration_authenticator_data({}), true);
  ASSERT_TRUE(std::holds_alternative<AuthenticatorData>(parsed));
  const auto& d = std::get<AuthenticatorData>(parsed);
  ASSERT_TRUE(d.attested);
  EXPECT_EQ(d.attested->credential_id, "ID-1");
  EXPECT_EQ(d.attested->alg, -8);
  EXPECT_EQ(d.attested->cose_key, a.cose_key(-8));
  EXPECT_EQ(d.trailing, 0u);
}

}  // namespace
}  // namespace authd::webauthn
