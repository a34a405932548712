// Vectors captured from Debian's Chromium 156 (headless, the DevTools
// virtual authenticator: CTAP2.1, internal, resident keys, user
// verification) on http://localhost:18914 with RP id localhost: for each
// algorithm, the registration and the assertion exactly as the browser's
// toJSON() gave them (user handle 32 x 'U', challenges 32 x 'C' and 'G').
// They must read and verify as they are, and fail once spoiled.
#include <gtest/gtest.h>

#include "http/passkey_credential.h"
#include "util/base64url.h"
#include "util/strict_json.h"
#include "webauthn/verify.h"

namespace authd::webauthn {
namespace {

struct Captured {
  const char* name;
  const char* registration;
  const char* assertion;
};

const Captured kCaptured[] = {
    {"eddsa",
     R"json({"authenticatorAttachment":"platform","clientExtensionResults":{},"id":"1WrlmrYV4uZSsN6HDy8m6ZYDD4uhStomBN07u6pEEeo","rawId":"1WrlmrYV4uZSsN6HDy8m6ZYDD4uhStomBN07u6pEEeo","response":{"attestationObject":"o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YViBSZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFAAAAAQECAwQFBgcIAQIDBAUGBwgAINVq5Zq2FeLmUrDehw8vJumWAw-LoUraJgTdO7uqRBHqpAEBAycgBiFYIL3O8oZnDUv_IKCMtmrl2LxIFh6IDT9o7obYWvxbW1Ks","authenticatorData":"SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFAAAAAQECAwQFBgcIAQIDBAUGBwgAINVq5Zq2FeLmUrDehw8vJumWAw-LoUraJgTdO7uqRBHqpAEBAycgBiFYIL3O8oZnDUv_IKCMtmrl2LxIFh6IDT9o7obYWvxbW1Ks","clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiUTBORFEwTkRRME5EUTBORFEwTkRRME5EUTBORFEwTkRRME5EUTBORFEwTSIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6MTg5MTQiLCJjcm9zc09yaWdpbiI6ZmFsc2UsIm90aGVyX2tleXNfY2FuX2JlX2FkZGVkX2hlcmUiOiJkbyBub3QgY29tcGFyZSBjbGllbnREYXRhSlNPTiBhZ2FpbnN0IGEgdGVtcGxhdGUuIFNlZSBodHRwczovL2dvby5nbC95YWJQZXgifQ","publicKey":"MCowBQYDK2VwAyEAvc7yhmcNS_8goIy2auXYvEgWHogNP2juhtha_FtbUqw","publicKeyAlgorithm":-8,"transports":["internal"]},"type":"public-key"})json",
     R"json({"authenticatorAttachment":"platform","clientExtensionResults":{},"id":"1WrlmrYV4uZSsN6HDy8m6ZYDD4uhStomBN07u6pEEeo","rawId":"1WrlmrYV4uZSsN6HDy8m6ZYDD4uhStomBN07u6pEEeo","response":{"authenticatorData":"SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAg","clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiUjBkSFIwZEhSMGRIUjBkSFIwZEhSMGRIUjBkSFIwZEhSMGRIUjBkSFIwYyIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6MTg5MTQiLCJjcm9zc09yaWdpbiI6ZmFsc2V9","signature":"g5nki32Y4jYo07J2U2rcPkcEmb6EZ4MfAss9cWAtNblD5mYdM6d39nXeXUTHI0p1eZDHF-coisx-zdThaabKBg","userHandle":"VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVU"},"type":"public-key"})json"},
    {"es256",
     R"json({"authenticatorAttachment":"platform","clientExtensionResults":{},"id":"wFzv59NrdnZQ3V2ua279FowQ32H_DjixTcfJ62quZTo","rawId":"wFzv59NrdnZQ3V2ua279FowQ32H_DjixTcfJ62quZTo","response":{"attestationObject":"o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVikSZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFAAAAAQECAwQFBgcIAQIDBAUGBwgAIMBc7-fTa3Z2UN1drmtu_RaMEN9h_w44sU3HyetqrmU6pQECAyYgASFYINCGv5cZzVKlxKnH41WQikENx0bmD3LS-E0NcZ_EOGojIlggdW9Fyn5Ipuel9Mfi5qM0ywW9ta6-jkXbf2AdnlS5pJM","authenticatorData":"SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFAAAAAQECAwQFBgcIAQIDBAUGBwgAIMBc7-fTa3Z2UN1drmtu_RaMEN9h_w44sU3HyetqrmU6pQECAyYgASFYINCGv5cZzVKlxKnH41WQikENx0bmD3LS-E0NcZ_EOGojIlggdW9Fyn5Ipuel9Mfi5qM0ywW9ta6-jkXbf2AdnlS5pJM","clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiUTBORFEwTkRRME5EUTBORFEwTkRRME5EUTBORFEwTkRRME5EUTBORFEwTSIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6MTg5MTQiLCJjcm9zc09yaWdpbiI6ZmFsc2V9","publicKey":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE0Ia_lxnNUqXEqcfjVZCKQQ3HRuYPctL4TQ1xn8Q4aiN1b0XKfkim56X0x-LmozTLBb21rr6ORdt_YB2eVLmkkw","publicKeyAlgorithm":-7,"transports":["internal"]},"type":"public-key"})json",
     R"json({"authenticatorAttachment":"platform","clientExtensionResults":{},"id":"wFzv59NrdnZQ3V2ua279FowQ32H_DjixTcfJ62quZTo","rawId":"wFzv59NrdnZQ3V2ua279FowQ32H_DjixTcfJ62quZTo","response":{"authenticatorData":"SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAg","clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiUjBkSFIwZEhSMGRIUjBkSFIwZEhSMGRIUjBkSFIwZEhSMGRIUjBkSFIwYyIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6MTg5MTQiLCJjcm9zc09yaWdpbiI6ZmFsc2V9","signature":"MEUCIQDpN19ik7wJg3fh9simBBwEmfSUWsei9omOgAMHEALGkwIgHEDrLejHQtco9jN_gXMeErKx3An77WvB7jOH-gGbrOQ","userHandle":"VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVU"},"type":"public-key"})json"},
    {"rs256",
     R"json({"authenticatorAttachment":"platform","clientExtensionResults":{},"id":"MFJTLLfwiiTe4E0hpxMoWARVW4c_ZlYioJGBz1ioAWA","rawId":"MFJTLLfwiiTe4E0hpxMoWARVW4c_ZlYioJGBz1ioAWA","response":{"attestationObject":"o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVkBZ0mWDeWIDoxodDQXD2R2YFuP5K65ooYyx5lc87qDHZdjRQAAAAEBAgMEBQYHCAECAwQFBgcIACAwUlMst_CKJN7gTSGnEyhYBFVbhz9mViKgkYHPWKgBYKQBAwM5AQAgWQEAvaG6vq488BWvBjpPj2QhFtPPIPobdTTZkyaQuM4EsOMu6Hrxqr0Laeifm56fYKYUuOchhRWs9mWmb1AbRRtVkLrSfl2U5L7nBpMXDsASiAQkI6VAFl_ZSsC04QfOGnU1UyJqcvZqoQBmJD7GumWs9biFIvDdAYJx7MX5ul5vLavbtqiMkwoiPPc9UsoAjt2x60MzrzGtVcvpsiEpiubD8hCT8SdnKo00FgEM9fmdjgrWq4etWyL702LsLdhkhdPJrMaa4TK60t0ms7yReg621e7iaaijiselC3YMs7b0fYO3myGgMWgd1J3ab7G9UNIrXxNXMhWYd0tAxjYcazeq0SFDAQAB","authenticatorData":"SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFAAAAAQECAwQFBgcIAQIDBAUGBwgAIDBSUyy38Iok3uBNIacTKFgEVVuHP2ZWIqCRgc9YqAFgpAEDAzkBACBZAQC9obq-rjzwFa8GOk-PZCEW088g-ht1NNmTJpC4zgSw4y7oevGqvQtp6J-bnp9gphS45yGFFaz2ZaZvUBtFG1WQutJ-XZTkvucGkxcOwBKIBCQjpUAWX9lKwLThB84adTVTImpy9mqhAGYkPsa6Zaz1uIUi8N0BgnHsxfm6Xm8tq9u2qIyTCiI89z1SygCO3bHrQzOvMa1Vy-myISmK5sPyEJPxJ2cqjTQWAQz1-Z2OCtarh61bIvvTYuwt2GSF08msxprhMrrS3SazvJF6DrbV7uJpqKOKx6ULdgyztvR9g7ebIaAxaB3Undpvsb1Q0itfE1cyFZh3S0DGNhxrN6rRIUMBAAE","clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiUTBORFEwTkRRME5EUTBORFEwTkRRME5EUTBORFEwTkRRME5EUTBORFEwTSIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6MTg5MTQiLCJjcm9zc09yaWdpbiI6ZmFsc2V9","publicKey":"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvaG6vq488BWvBjpPj2QhFtPPIPobdTTZkyaQuM4EsOMu6Hrxqr0Laeifm56fYKYUuOchhRWs9mWmb1AbRRtVkLrSfl2U5L7nBpMXDsASiAQkI6VAFl_ZSsC04QfOGnU1UyJqcvZqoQBmJD7GumWs9biFIvDdAYJx7MX5ul5vLavbtqiMkwoiPPc9UsoAjt2x60MzrzGtVcvpsiEpiubD8hCT8SdnKo00FgEM9fmdjgrWq4etWyL702LsLdhkhdPJrMaa4TK60t0ms7yReg621e7iaaijiselC3YMs7b0fYO3myGgMWgd1J3ab7G9UNIrXxNXMhWYd0tAxjYcazeq0QIDAQAB","publicKeyAlgorithm":-257,"transports":["internal"]},"type":"public-key"})json", R"json({"authenticatorAttachment":"platform","clientExtensionResults":{},"id":"MFJTLLfwiiTe4E0hpxMoWARVW4c_ZlYioJGBz1ioAWA","rawId":"MFJTLLfwiiTe4E0hpxMoWARVW4c_ZlYioJGBz1ioAWA","response":{"authenticatorData":"SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAg","clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiUjBkSFIwZEhSMGRIUjBkSFIwZEhSMGRIUjBkSFIwZEhSMGRIUjBkSFIwYyIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6MTg5MTQiLCJjcm9zc09yaWdpbiI6ZmFsc2V9","signature":"nRjlKp9Me6G5Jz4xwxACDT_F0JhRy5D9OKrTFtH_dA0lIaq5z1WcLQ_vKQ9j1wwmjd-gv6aqkEvjLMe7whYRhORvmn8VxMRed0abps1KIX05wSFZUqP8xJAWKU_DcP2yhrNOI3Gf_PYEajDT15VuYMDcZfK1u3c_IzQYASSb2yHNuOsdlLmNXDe5Pf4NobGpLsRhZGoBLPQz6oJhzhs47-V042ZlWc6bZG0cbe6Thf4sXl-IxolTlQc6mWLLSDOH3XweBwNkizutIw6yJSVC7Uc44czaxlij_KlVEO-rLh9f4EwXzsFHAYNLbLEJ9stgn6lGtDNYqG6s5SFZ8RJhHQ","userHandle":"VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVU"},"type":"public-key"})json"},
};

RelyingParty captured_rp() {
  return RelyingParty{"localhost", "authd", {"http://localhost:18914"}};
}

class CapturedVectors : public ::testing::TestWithParam<Captured> {
 protected:
  Registration registration() {
    auto doc = parse_strict_object(GetParam().registration);
    EXPECT_TRUE(doc);
    auto read = http::read_registration_credential(*doc, "credential");
    EXPECT_TRUE(std::holds_alternative<http::RegistrationCredential>(read));
    auto r = std::get<http::RegistrationCredential>(read);
    EXPECT_EQ(r.transports, std::vector<std::string>{"internal"});
    return r.response;
  }
  Assertion assertion() {
    auto doc = parse_strict_object(GetParam().assertion);
    EXPECT_TRUE(doc);
    auto read = http::read_assertion_credential(*doc, "credential");
    EXPECT_TRUE(std::holds_alternative<Assertion>(read));
    return std::get<Assertion>(read);
  }
  NewCredential registered() {
    auto made = verify_registration(registration(), captured_rp());
    if (const Check* c = std::get_if<Check>(&made)) {
      ADD_FAILURE() << check_name(*c);
      return {};
    }
    return std::get<NewCredential>(made);
  }
};

TEST_P(CapturedVectors, TheRegistrationReadsAndVerifies) {
  const Registration r = registration();
  EXPECT_EQ(r.fmt, "none");
  EXPECT_EQ(r.client_data.type, "webauthn.create");
  EXPECT_EQ(r.client_data.challenge, base64url_encode(std::string(32, 'C')));
  EXPECT_EQ(r.client_data.origin, "http://localhost:18914");
  const NewCredential c = registered();
  const std::string name = GetParam().name;
  EXPECT_EQ(c.alg, name == "eddsa" ? kEdDsa : name == "es256" ? kEs256 : kRs256);
  EXPECT_EQ(c.credential_id, r.raw_id);
  EXPECT_FALSE(c.backup_eligible);
  EXPECT_FALSE(c.backed_up);
}

TEST_P(CapturedVectors, TheAssertionVerifiesWithTheRegisteredKey) {
  const NewCredential c = registered();
  const Assertion a = assertion();
  EXPECT_EQ(a.raw_id, c.credential_id);
  EXPECT_EQ(a.user_handle, std::string(32, 'U'));
  EXPECT_EQ(a.client_data.challenge, base64url_encode(std::string(32, 'G')));
  auto used = verify_assertion(a, captured_rp(), StoredKey{c.alg, c.public_key, false}, true);
  ASSERT_TRUE(std::holds_alternative<VerifiedAssertion>(used)) << check_name(std::get<Check>(used));
  EXPECT_GT(std::get<VerifiedAssertion>(used).sign_count, c.sign_count);
  EXPECT_TRUE(std::get<VerifiedAssertion>(used).user_verified);
}

TEST_P(CapturedVectors, SpoiledTheyFail) {
  const NewCredential c = registered();
  const StoredKey key{c.alg, c.public_key, false};
  RelyingParty other_port = captured_rp();
  other_port.origins = {"http://localhost:18915"};
  EXPECT_EQ(std::get<Check>(verify_registration(registration(), other_port)), Check::origin);
  EXPECT_EQ(std::get<Check>(verify_assertion(assertion(), other_port, key, true)), Check::origin);
  RelyingParty other_rp = captured_rp();
  other_rp.id = "example.com";
  EXPECT_EQ(std::get<Check>(verify_assertion(assertion(), other_rp, key, true)), Check::rp_id);
  Assertion flipped = assertion();
  flipped.signature[flipped.signature.size() / 2] ^= 0x10;
  EXPECT_EQ(std::get<Check>(verify_assertion(flipped, captured_rp(), key, true)), Check::signature);
  Assertion longer = assertion();
  longer.authenticator_data += '\0';
  EXPECT_EQ(std::get<Check>(verify_assertion(longer, captured_rp(), key, true)),
            Check::trailing_bytes);
  Registration r = registration();
  r.authenticator_data += '\0';
  EXPECT_EQ(std::get<Check>(verify_registration(r, captured_rp())), Check::trailing_bytes);
}

INSTANTIATE_TEST_SUITE_P(Chromium, CapturedVectors, ::testing::ValuesIn(kCaptured),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace authd::webauthn
