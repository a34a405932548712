#include "adapters/crypto/jwt_signer.h"

#include <jwt.h>
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
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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

}  // namespace

JwtSigner::JwtSigner(JwtSettings settings) : settings_(std::move(settings)) {
  if (settings_.algorithm != "HS256") {
    throw std::invalid_argument("JwtSigner: unsupported algorithm " + settings_.algorithm);
  }
  if (settings_.hmac_secret.size() < 32) {
    throw std::invalid_argument("JwtSigner: HS256 secret shorter than 32 bytes");
  }
  kid_ = derive_hmac_kid(settings_.hmac_secret);
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
  w.String(settings_.audience.c_str(),
           static_cast<rapidjson::SizeType>(settings_.audience.size()));
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
  for (const auto& m : claims.amr) w.String(m.c_str(), static_cast<rapidjson::SizeType>(m.size()));
  w.EndArray();
  w.EndObject();

  if (jwt_add_grants_json(jwt.get(), buf.GetString()) != 0 ||
      jwt_add_header(jwt.get(), "typ", "at+jwt") != 0 ||
      jwt_add_header(jwt.get(), "kid", kid_.c_str()) != 0 ||
      jwt_set_alg(jwt.get(), JWT_ALG_HS256,
                  reinterpret_cast<const unsigned char*>(settings_.hmac_secret.data()),
                  static_cast<int>(settings_.hmac_secret.size())) != 0) {
    throw std::runtime_error("JwtSigner: could not build the token");
  }
  MallocString encoded(jwt_encode_str(jwt.get()));
  if (!encoded) throw std::runtime_error("JwtSigner: could not encode the token");
  return std::string(encoded.get());
}

std::optional<AccessClaims> JwtSigner::verify(std::string_view token, UnixSeconds now) {
  if (!well_formed(token)) return std::nullopt;
  std::string text(token);
  jwt_t* raw = nullptr;
  // Always the configured, non-empty key: with a NULL key libjwt would
  // accept `alg: none`.
  int rc = jwt_decode(&raw, text.c_str(),
                      reinterpret_cast<const unsigned char*>(settings_.hmac_secret.data()),
                      static_cast<int>(settings_.hmac_secret.size()));
  JwtHandle jwt(raw);
  if (rc != 0 || !jwt) return std::nullopt;
  // libjwt verified with whatever algorithm the header named: pin ours.
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return std::nullopt;
  if (!typ_accepted(jwt_get_header(jwt.get(), "typ"))) return std::nullopt;
  const char* kid = jwt_get_header(jwt.get(), "kid");
  if (kid == nullptr || kid_ != kid) return std::nullopt;

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
