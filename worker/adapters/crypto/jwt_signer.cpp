#include "adapters/crypto/jwt_signer.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>

#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include "util/base64url.h"

namespace authd {
namespace {

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtHandle = std::unique_ptr<jwt_t, JwtDeleter>;

struct MallocDeleter {
  void operator()(char* p) const { std::free(p); }
};
using MallocString = std::unique_ptr<char, MallocDeleter>;

// Tokens larger than this are refused before any parsing: ours are ~600 bytes.
constexpr std::size_t kMaxTokenBytes = 4096;

bool is_base64url_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
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

bool typ_accepted(const char* typ) {
  if (typ == nullptr) return false;
  std::string lower(typ);
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "at+jwt" || lower == "application/at+jwt";
}

std::string derive_hmac_kid(const std::string& secret) {
  // An identifier for the key that reveals nothing about it: a MAC of a
  // fixed label under the key, truncated.
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  static constexpr char kLabel[] = "authd key id";
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(kLabel),
                                sizeof kLabel - 1);
  crypto_auth_hmacsha256_final(&st, mac);
  return "hs-" + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), 12));
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

struct EvpKeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};

struct EcPublicKey {
  std::string pem;  // SubjectPublicKeyInfo PEM, what libjwt verifies with
  std::string jwk;  // {"kty":"EC","crv":"P-256",...}
  std::string kid;  // RFC 7638 thumbprint
};

std::string coordinate(const EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) throw std::invalid_argument("EC key without coordinates");
  std::unique_ptr<BIGNUM, BnDeleter> bn(raw);
  unsigned char buf[32];
  if (BN_bn2binpad(bn.get(), buf, sizeof buf) != 32) throw std::invalid_argument("EC coordinate too long");
  return base64url_encode(std::string_view(reinterpret_cast<char*>(buf), sizeof buf));
}

// Reads a P-256 key (private or public PEM) and derives what we publish.
EcPublicKey ec_public_key(const std::string& pem, bool is_private) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw std::bad_alloc();
  EVP_PKEY* raw = is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                             : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    throw std::invalid_argument(is_private ? "not a PEM private key" : "not a PEM public key");
  }
  std::unique_ptr<EVP_PKEY, EvpKeyDeleter> key(raw);
  char group[64] = {0};
  std::size_t group_len = 0;
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC ||
      EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &group_len) != 1 ||
      std::string_view(group, group_len) != "prime256v1") {
    throw std::invalid_argument("ES256 needs an EC key on P-256 (prime256v1)");
  }
  EcPublicKey out;
  std::string x = coordinate(key.get(), OSSL_PKEY_PARAM_EC_PUB_X);
  std::string y = coordinate(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
  // RFC 7638: the required members in lexicographic order, no spaces.
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + x + R"(","y":")" + y + "\"}";
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(canonical.data()),
                     canonical.size());
  out.kid = base64url_encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
  out.jwk = R"({"kty":"EC","crv":"P-256","x":")" + x + R"(","y":")" + y +
            R"(","use":"sig","alg":"ES256","kid":")" + out.kid + "\"}";
  std::unique_ptr<BIO, BioDeleter> pub(BIO_new(BIO_s_mem()));
  if (!pub || PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1) throw std::bad_alloc();
  char* data = nullptr;
  long len = BIO_get_mem_data(pub.get(), &data);
  out.pem.assign(data, static_cast<std::size_t>(len));
  return out;
}

// The `kid` of a token's header, read before any verification so the key
// can be chosen among ours; libjwt then verifies with that key only.
std::optional<std::string> header_kid(std::string_view token) {
  auto header = base64url_decode(token.substr(0, token.find('.')));
  if (!header) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
      header->data(), header->size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  return string_member(doc, "kid");
}

}  // namespace

JwtSigner::JwtSigner(JwtSettings settings) : settings_(std::move(settings)) {
  if (settings_.algorithm == "HS256") {
    if (settings_.hmac_secret.size() < 32) {
      throw std::invalid_argument("HS256 secret shorter than 32 bytes");
    }
    signing_kid_ = derive_hmac_kid(settings_.hmac_secret);
    keys_.push_back({signing_kid_, settings_.hmac_secret, ""});
  } else if (settings_.algorithm == "ES256") {
    EcPublicKey current = ec_public_key(settings_.private_key_pem, true);
    signing_kid_ = current.kid;
    keys_.push_back({current.kid, current.pem, current.jwk});
    if (!settings_.previous_public_key_pem.empty()) {
      EcPublicKey previous = ec_public_key(settings_.previous_public_key_pem, false);
      if (previous.kid != current.kid) keys_.push_back({previous.kid, previous.pem, previous.jwk});
    }
  } else {
    throw std::invalid_argument("unsupported JWT algorithm " + settings_.algorithm);
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
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::bad_alloc();
  JwtHandle jwt(raw);

  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("iss");
  w.String(settings_.issuer.c_str(), static_cast<rapidjson::SizeType>(settings_.issuer.size()));
  w.Key("aud");
  w.String(settings_.audience.c_str(), static_cast<rapidjson::SizeType>(settings_.audience.size()));
  w.Key("sub");
  w.String(claims.sub.c_str(), static_cast<rapidjson::SizeType>(claims.sub.size()));
  w.Key("email");
  w.String(claims.email.c_str(), static_cast<rapidjson::SizeType>(claims.email.size()));
  w.Key("sid");
  w.String(claims.sid.c_str(), static_cast<rapidjson::SizeType>(claims.sid.size()));
  w.Key("jti");
  w.String(claims.jti.c_str(), static_cast<rapidjson::SizeType>(claims.jti.size()));
  w.Key("iat");
  w.Int64(claims.iat);
  w.Key("nbf");
  w.Int64(claims.nbf);
  w.Key("exp");
  w.Int64(claims.exp);
  w.Key("auth_time");
  w.Int64(claims.auth_time);
  w.Key("amr");
  w.StartArray();
  for (const auto& m : claims.amr)
    w.String(m.c_str(), static_cast<rapidjson::SizeType>(m.size()));
  w.EndArray();
  w.EndObject();

  if (jwt_add_grants_json(jwt.get(), buf.GetString()) != 0 ||
      jwt_add_header(jwt.get(), "typ", "at+jwt") != 0 ||
      jwt_add_header(jwt.get(), "kid", signing_kid_.c_str()) != 0 ||
      jwt_set_alg(jwt.get(), algorithm(), reinterpret_cast<const unsigned char*>(signing_key().data()),
                  static_cast<int>(signing_key().size())) != 0) {
    throw std::runtime_error("JwtSigner: could not build the token");
  }
  MallocString encoded(jwt_encode_str(jwt.get()));
  if (!encoded) throw std::runtime_error("JwtSigner: could not encode the token");
  return std::string(encoded.get());
}

std::optional<AccessClaims> JwtSigner::verify(std::string_view token, UnixSeconds now) {
  if (!well_formed(token)) return std::nullopt;
  auto kid = header_kid(token);
  if (!kid) return std::nullopt;
  const VerificationKey* key = nullptr;
  for (const auto& k : keys_)
    if (k.kid == *kid) key = &k;
  if (key == nullptr) return std::nullopt;

  std::string text(token);
  jwt_t* raw = nullptr;
  // Always one of our non-empty keys: with a NULL key libjwt would accept
  // `alg: none`.
  int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key->key.data()),
                      static_cast<int>(key->key.size()));
  JwtHandle jwt(raw);
  if (rc != 0 || !jwt) return std::nullopt;
  // libjwt verified with whatever algorithm the header named (an HS256
  // token "signed" with our public key's PEM would pass): pin ours.
  if (jwt_get_alg(jwt.get()) != algorithm()) return std::nullopt;
  if (!typ_accepted(jwt_get_header(jwt.get(), "typ"))) return std::nullopt;

  MallocString grants(jwt_get_grants_json(jwt.get(), nullptr));
  if (!grants) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(grants.get());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;

  AccessClaims c;
  auto iss = string_member(doc, "iss");
  if (!iss || *iss != settings_.issuer) return std::nullopt;
  // `aud` may be a string or an array holding ours (RFC 7519 §4.1.3).
  auto aud_it = doc.FindMember("aud");
  if (aud_it == doc.MemberEnd()) return std::nullopt;
  bool aud_ok = false;
  if (aud_it->value.IsString()) {
    aud_ok = settings_.audience == aud_it->value.GetString();
  } else if (aud_it->value.IsArray()) {
    for (const auto& a : aud_it->value.GetArray())
      if (a.IsString() && settings_.audience == a.GetString()) aud_ok = true;
  }
  if (!aud_ok) return std::nullopt;

  auto sub = string_member(doc, "sub");
  auto email = string_member(doc, "email");
  auto sid = string_member(doc, "sid");
  auto jti = string_member(doc, "jti");
  auto iat = int_member(doc, "iat");
  auto nbf = int_member(doc, "nbf");
  auto exp = int_member(doc, "exp");
  auto auth_time = int_member(doc, "auth_time");
  if (!sub || !email || !sid || !jti || !iat || !nbf || !exp || !auth_time) return std::nullopt;
  auto amr_it = doc.FindMember("amr");
  if (amr_it == doc.MemberEnd() || !amr_it->value.IsArray() || amr_it->value.Empty())
    return std::nullopt;
  for (const auto& m : amr_it->value.GetArray()) {
    if (!m.IsString()) return std::nullopt;
    c.amr.emplace_back(m.GetString(), m.GetStringLength());
  }

  const UnixSeconds leeway = settings_.leeway_s;
  if (*exp <= now - leeway) return std::nullopt;  // expired
  if (*nbf > now + leeway) return std::nullopt;   // not yet valid
  if (*iat > now + leeway) return std::nullopt;   // issued in the future

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

namespace authd {

jwt_alg_t JwtSigner::algorithm() const {
  return settings_.algorithm == "ES256" ? JWT_ALG_ES256 : JWT_ALG_HS256;
}

const std::string& JwtSigner::signing_key() const {
  return settings_.algorithm == "ES256" ? settings_.private_key_pem : settings_.hmac_secret;
}

}  // namespace authd
