#include "adapters/crypto/jwt_signer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>

#include <cctype>
#include <stdexcept>

#include "util/base64url.h"
#include "util/strict_json.h"

namespace authd {
namespace {

// Tokens larger than this are refused before any parsing: ours are ~600 bytes.
constexpr std::size_t kMaxTokenBytes = 4096;

struct EvpKeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

// Plain ranges, not isalnum(): no locale lookup per byte of every token.
bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Three non-empty base64url segments separated by dots, nothing else.
bool well_formed(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenBytes) return false;
  int dots = 0;
  std::size_t segment = 0;
  for (char c : token) {
    if (c == '.') {
      if (segment == 0) return false;
      ++dots;
      segment = 0;
    } else if (is_base64url_char(c)) {
      ++segment;
    } else {
      return false;
    }
  }
  return dots == 2 && segment > 0;
}

bool typ_accepted(std::string_view typ) {
  std::string lower(typ);
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "at+jwt" || lower == "application/at+jwt";
}

std::optional<std::string> string_member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::optional<UnixSeconds> int_member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

std::string hmac_sha256(std::string_view key, std::string_view input) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(input.data()),
                                input.size());
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(&st, sizeof st);
  return std::string(reinterpret_cast<char*>(mac), sizeof mac);
}

std::string derive_hmac_kid(const std::string& secret) {
  // An identifier for the key that reveals nothing about it: a MAC of a
  // fixed label under the key, truncated.
  return "hs-" + base64url_encode(hmac_sha256(secret, "authd key id").substr(0, 12));
}

// ECDSA signatures are malleable: (r, s) and (r, n - s) both verify. Tokens
// are signed with the low S and a high S is refused, so each token has one
// encoding (a twin would pass as another token: another memo key, another
// string a service may compare). n is the order of P-256 (SEC 2).
constexpr std::string_view kP256OrderHex =
    "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";

const BIGNUM& p256_order() {
  static const std::unique_ptr<BIGNUM, BnDeleter> order = [] {
    BIGNUM* n = nullptr;
    if (BN_hex2bn(&n, std::string(kP256OrderHex).c_str()) == 0) throw std::bad_alloc();
    return std::unique_ptr<BIGNUM, BnDeleter>(n);
  }();
  return *order;
}

const BIGNUM& p256_half_order() {
  static const std::unique_ptr<BIGNUM, BnDeleter> half = [] {
    std::unique_ptr<BIGNUM, BnDeleter> h(BN_new());
    if (!h || BN_rshift1(h.get(), &p256_order()) != 1) throw std::bad_alloc();
    return h;
  }();
  return *half;
}

bool is_high_s(const BIGNUM& s) {
  return BN_cmp(&s, &p256_half_order()) > 0;
}

// ECDSA P-256 over SHA-256, as JOSE wants it: R and S, 32 bytes each
// (RFC 7518 §3.4), not OpenSSL's DER; S always in the lower half.
std::string es256_sign(EVP_PKEY& key, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  std::size_t der_len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, &key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len, data, input.size()) != 1) {
    throw std::runtime_error("ES256: cannot sign");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len, data,
                     input.size()) != 1) {
    throw std::runtime_error("ES256: cannot sign");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) throw std::runtime_error("ES256: bad signature");
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  std::unique_ptr<BIGNUM, BnDeleter> low_s;
  if (is_high_s(*s)) {
    low_s.reset(BN_new());
    if (!low_s || BN_sub(low_s.get(), &p256_order(), s) != 1) {
      throw std::runtime_error("ES256: cannot normalise the signature");
    }
    s = low_s.get();
  }
  unsigned char raw[64];
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw, 32) != 32 ||
      BN_bn2binpad(s, raw + 32, 32) != 32) {
    throw std::runtime_error("ES256: bad signature");
  }
  return std::string(reinterpret_cast<char*>(raw), sizeof raw);
}

bool es256_verify(EVP_PKEY& key, std::string_view input, std::string_view signature) {
  if (signature.size() != 64) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw, 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw + 32, 32, nullptr);
  if (!sig || !r || !s || is_high_s(*s) || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
      der, [](unsigned char* d) { OPENSSL_free(d); });
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, &key) == 1 &&
         EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(der_len),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

std::shared_ptr<EVP_PKEY> read_pem_key(const std::string& pem, bool is_private) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw std::bad_alloc();
  EVP_PKEY* raw = is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                             : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    throw std::invalid_argument(is_private ? "not a PEM private key" : "not a PEM public key");
  }
  std::shared_ptr<EVP_PKEY> key(raw, EvpKeyDeleter{});
  char group[64] = {0};
  std::size_t group_len = 0;
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC ||
      EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &group_len) != 1 ||
      std::string_view(group, group_len) != "prime256v1") {
    throw std::invalid_argument("ES256 needs an EC key on P-256 (prime256v1)");
  }
  return key;
}

std::string coordinate(const EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    throw std::invalid_argument("EC key without coordinates");
  }
  std::unique_ptr<BIGNUM, BnDeleter> bn(raw);
  unsigned char buf[32];
  if (BN_bn2binpad(bn.get(), buf, sizeof buf) != 32) {
    throw std::invalid_argument("EC coordinate too long");
  }
  return base64url_encode(std::string_view(reinterpret_cast<char*>(buf), sizeof buf));
}

// The public JWK of a P-256 key and its RFC 7638 thumbprint (the kid).
std::pair<std::string, std::string> public_jwk(const EVP_PKEY* key) {
  const std::string x = coordinate(key, OSSL_PKEY_PARAM_EC_PUB_X);
  const std::string y = coordinate(key, OSSL_PKEY_PARAM_EC_PUB_Y);
  // RFC 7638: the required members in lexicographic order, no spaces.
  const std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + x + R"(","y":")" + y + "\"}";
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(canonical.data()),
                     canonical.size());
  std::string kid = base64url_encode(std::string_view(reinterpret_cast<char*>(digest), 32));
  std::string jwk = R"({"kty":"EC","crv":"P-256","x":")" + x + R"(","y":")" + y +
                    R"(","use":"sig","alg":"ES256","kid":")" + kid + "\"}";
  return {std::move(jwk), std::move(kid)};
}

// The encoded JOSE header of the tokens made with key `kid`.
std::string header_segment(const std::string& alg, const std::string& kid) {
  rapidjson::StringBuffer header;
  rapidjson::Writer<rapidjson::StringBuffer> w(header);
  w.StartObject();
  w.Key("alg");
  w.String(alg.c_str(), static_cast<rapidjson::SizeType>(alg.size()));
  w.Key("kid");
  w.String(kid.c_str(), static_cast<rapidjson::SizeType>(kid.size()));
  w.Key("typ");
  w.String("at+jwt");
  w.EndObject();
  return base64url_encode({header.GetString(), header.GetSize()});
}

}  // namespace

JwtSigner::JwtSigner(JwtSettings settings) : settings_(std::move(settings)) {
  if (settings_.algorithm == "HS256") {
    if (settings_.hmac_secret.size() < 32) {
      throw std::invalid_argument("HS256 secret shorter than 32 bytes");
    }
    signing_kid_ = derive_hmac_kid(settings_.hmac_secret);
    keys_.push_back({signing_kid_, std::make_shared<HmacSha256>(settings_.hmac_secret), nullptr, "",
                     header_segment(settings_.algorithm, signing_kid_)});
  } else if (settings_.algorithm == "ES256") {
    signing_key_ = read_pem_key(settings_.private_key_pem, true);
    auto [jwk, kid] = public_jwk(signing_key_.get());
    signing_kid_ = kid;
    keys_.push_back({kid, nullptr, signing_key_, jwk, header_segment(settings_.algorithm, kid)});
    if (!settings_.previous_public_key_pem.empty()) {
      auto previous = read_pem_key(settings_.previous_public_key_pem, false);
      auto [old_jwk, old_kid] = public_jwk(previous.get());
      if (old_kid != kid) {
        keys_.push_back(
            {old_kid, nullptr, previous, old_jwk, header_segment(settings_.algorithm, old_kid)});
      }
    }
  } else {
    throw std::invalid_argument("unsupported JWT algorithm " + settings_.algorithm +
                                " (HS256 or ES256)");
  }
}

std::string JwtSigner::jwks_json() const {
  if (settings_.algorithm != "ES256") return "";
  std::string out = "{\"keys\":[";
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (i) out += ',';
    out += keys_[i].jwk;
  }
  out += "]}";
  return out;
}

std::string JwtSigner::sign(const AccessClaims& claims) {
  rapidjson::StringBuffer payload;
  {
    rapidjson::Writer<rapidjson::StringBuffer> w(payload);
    auto str = [&w](const char* key, const std::string& value) {
      w.Key(key);
      w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
    };
    auto num = [&w](const char* key, UnixSeconds value) {
      w.Key(key);
      w.Int64(value);
    };
    w.StartObject();
    str("iss", settings_.issuer);
    str("aud", settings_.audience);
    str("sub", claims.sub);
    str("email", claims.email);
    w.Key("email_verified");
    w.Bool(claims.email_verified);
    str("sid", claims.sid);
    str("jti", claims.jti);
    num("iat", claims.iat);
    num("nbf", claims.nbf);
    num("exp", claims.exp);
    num("auth_time", claims.auth_time);
    w.Key("amr");
    w.StartArray();
    for (const auto& m : claims.amr)
      w.String(m.c_str(), static_cast<rapidjson::SizeType>(m.size()));
    w.EndArray();
    w.EndObject();
  }
  std::string token = keys_.front().header_segment;
  token += '.';
  token += base64url_encode({payload.GetString(), payload.GetSize()});
  if (signing_key_) {
    const std::string signature = es256_sign(*signing_key_, token);
    token += '.';
    token += base64url_encode(signature);
  } else {
    const HmacSha256::Mac mac = keys_.front().hmac->mac(token);
    token += '.';
    token += base64url_encode({reinterpret_cast<const char*>(mac.data()), mac.size()});
  }
  return token;
}

bool JwtSigner::signature_valid(const VerificationKey& key, std::string_view signing_input,
                                std::string_view signature) const {
  if (key.public_key) return es256_verify(*key.public_key, signing_input, signature);
  if (!key.hmac) return false;
  const HmacSha256::Mac expected = key.hmac->mac(signing_input);
  return signature.size() == expected.size() &&
         sodium_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

const JwtSigner::VerificationKey* JwtSigner::key_for_header(std::string_view segment) const {
  // The header exactly as sign() writes it for one of our keys: nothing to
  // parse (every bearer request takes this path).
  for (const auto& k : keys_)
    if (k.header_segment == segment) return &k;
  // Any other header is read strictly: our algorithm only (never `none`,
  // never one our key does not belong to), an access-token type, one of our
  // key ids, no extensions.
  auto header_json = base64url_decode(segment);
  if (!header_json) return nullptr;
  auto header = parse_strict_object(*header_json);
  if (!header) return nullptr;
  auto alg = string_member(*header, "alg");
  auto typ = string_member(*header, "typ");
  auto kid = string_member(*header, "kid");
  if (!alg || *alg != settings_.algorithm || !typ || !typ_accepted(*typ) || !kid) return nullptr;
  if (header->HasMember("crit")) return nullptr;
  for (const auto& k : keys_)
    if (k.kid == *kid) return &k;
  return nullptr;
}

std::optional<AccessClaims> JwtSigner::verify(std::string_view token, UnixSeconds now) {
  if (const AccessClaims* known = memo_.find(token)) {
    if (!times_valid(*known, now)) return std::nullopt;
    return *known;
  }
  auto claims = verify_signed(token);
  if (!claims || !times_valid(*claims, now)) return std::nullopt;
  memo_.remember(token, *claims);
  return claims;
}

bool JwtSigner::times_valid(const AccessClaims& claims, UnixSeconds now) const {
  const UnixSeconds leeway = settings_.leeway_s;
  if (claims.exp <= now - leeway) return false;  // expired
  if (claims.nbf > now + leeway) return false;   // not yet valid
  if (claims.iat > now + leeway) return false;   // issued in the future
  return true;
}

std::optional<AccessClaims> JwtSigner::verify_signed(std::string_view token) {
  if (!well_formed(token)) return std::nullopt;
  const std::size_t first_dot = token.find('.');
  const std::size_t last_dot = token.rfind('.');
  auto payload_json = base64url_decode(token.substr(first_dot + 1, last_dot - first_dot - 1));
  auto signature = base64url_decode(token.substr(last_dot + 1));
  if (!payload_json || !signature) return std::nullopt;
  const VerificationKey* key = key_for_header(token.substr(0, first_dot));
  if (key == nullptr) return std::nullopt;
  if (!signature_valid(*key, token.substr(0, last_dot), *signature)) return std::nullopt;

  auto doc = parse_strict_object(*payload_json);
  if (!doc) return std::nullopt;
  auto iss = string_member(*doc, "iss");
  if (!iss || *iss != settings_.issuer) return std::nullopt;
  // `aud` may be a string or an array holding ours (RFC 7519 §4.1.3).
  auto aud_it = doc->FindMember("aud");
  if (aud_it == doc->MemberEnd()) return std::nullopt;
  // Compared with their lengths: JSON strings may hold \u0000, and a C
  // string comparison would stop there ("auth\u0000evil" is not "auth").
  const auto is_our_audience = [this](const rapidjson::Value& v) {
    return v.IsString() &&
           std::string_view(v.GetString(), v.GetStringLength()) == settings_.audience;
  };
  bool aud_ok = false;
  if (aud_it->value.IsString()) {
    aud_ok = is_our_audience(aud_it->value);
  } else if (aud_it->value.IsArray()) {
    for (const auto& a : aud_it->value.GetArray())
      if (is_our_audience(a)) aud_ok = true;
  }
  if (!aud_ok) return std::nullopt;

  AccessClaims c;
  auto sub = string_member(*doc, "sub");
  auto email = string_member(*doc, "email");
  auto sid = string_member(*doc, "sid");
  auto jti = string_member(*doc, "jti");
  auto iat = int_member(*doc, "iat");
  auto nbf = int_member(*doc, "nbf");
  auto exp = int_member(*doc, "exp");
  auto auth_time = int_member(*doc, "auth_time");
  if (!sub || !email || !sid || !jti || !iat || !nbf || !exp || !auth_time) return std::nullopt;
  auto verified_it = doc->FindMember("email_verified");
  if (verified_it == doc->MemberEnd() || !verified_it->value.IsBool()) return std::nullopt;
  c.email_verified = verified_it->value.GetBool();
  auto amr_it = doc->FindMember("amr");
  if (amr_it == doc->MemberEnd() || !amr_it->value.IsArray() || amr_it->value.Empty()) {
    return std::nullopt;
  }
  for (const auto& m : amr_it->value.GetArray()) {
    if (!m.IsString()) return std::nullopt;
    c.amr.emplace_back(m.GetString(), m.GetStringLength());
  }

  c.sub = std::move(*sub);
  c.email = std::move(*email);
  c.sid = std::move(*sid);
  c.jti = std::move(*jti);
  c.iat = *iat;
  c.nbf = *nbf;
  c.exp = *exp;
  c.auth_time = *auth_time;
  return c;
}

}  // namespace authd
