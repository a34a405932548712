// libFuzzer target: access-token verification (JwtSigner::verify), HS256 and
// ES256, on arbitrary bytes. Beyond "no crash, no sanitizer report", the
// oracle: a token that verifies must carry exactly the claims this process
// signed (only the key holder can make one); anything else accepted is a
// forgery. AUTHD_FUZZ_PRINT_SEEDS=1 prints freshly signed tokens (the seeds
// in fuzz/corpus/fuzz_jwt_verify/ were made so).
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "adapters/crypto/jwt_signer.h"

namespace {

using authd::AccessClaims;
using authd::JwtSettings;
using authd::JwtSigner;

constexpr authd::UnixSeconds kIat = 1'800'000'000;
constexpr authd::UnixSeconds kNow = kIat + 60;

// A throwaway P-256 key made for this fuzzer only; it signs nothing else.
constexpr const char* kFuzzEs256Key =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4MmYiKdfdMZpjHMZ\n"
    "56AXEENnLEcI+OUam2BP2XY79EWhRANCAASY2nGC25x0h1ZgSnrvpsDKl4JheAl3\n"
    "UemKONGxnlxkvGjYVrr9VRcul4Q+G5l3OP/cve0JZKUR5MLXK0jEmvU5\n"
    "-----END PRIVATE KEY-----\n";

AccessClaims signed_claims() {
  AccessClaims c;
  c.sub = "0190a3b2-0000-7000-8000-000000000001";
  c.email = "fuzz@example.com";
  c.sid = "0190a3b2-0000-7000-8000-000000000002";
  c.jti = "fuzz-jti";
  c.amr = {"pwd"};
  c.iat = kIat;
  c.nbf = kIat;
  c.exp = kIat + 900;
  c.auth_time = kIat;
  return c;
}

bool same(const AccessClaims& a, const AccessClaims& b) {
  return a.sub == b.sub && a.email == b.email && a.email_verified == b.email_verified &&
         a.sid == b.sid && a.jti == b.jti && a.amr == b.amr && a.iat == b.iat && a.nbf == b.nbf &&
         a.exp == b.exp && a.auth_time == b.auth_time;
}

std::unique_ptr<JwtSigner> g_hs256;
std::unique_ptr<JwtSigner> g_es256;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) std::abort();
  JwtSettings hs;
  hs.hmac_secret = std::string(48, 'f');
  g_hs256 = std::make_unique<JwtSigner>(hs);
  JwtSettings es;
  es.algorithm = "ES256";
  es.private_key_pem = kFuzzEs256Key;
  g_es256 = std::make_unique<JwtSigner>(es);
  if (std::getenv("AUTHD_FUZZ_PRINT_SEEDS")) {
    std::printf("%s\n%s\n", g_hs256->sign(signed_claims()).c_str(),
                g_es256->sign(signed_claims()).c_str());
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  for (JwtSigner* signer : {g_hs256.get(), g_es256.get()}) {
    if (auto claims = signer->verify(token, kNow)) {
      if (!same(*claims, signed_claims())) {
        std::fprintf(stderr, "forgery: a token this process did not sign was accepted\n");
        std::abort();
      }
    }
  }
  return 0;
}
