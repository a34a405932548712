#pragma once
// A software WebAuthn authenticator and client for the unit tests: real keys
// (OpenSSL 3: P-256, Ed25519, RSA-2048, and P-384 for the refused ES384),
// real signatures, CBOR written byte by byte so that a test can spoil any
// one field (flags, counter, rpIdHash, trailing bytes, the key's algorithm)
// and see that exact step refused.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "util/base64url.h"
#include "webauthn/attestation_object.h"
#include "webauthn/authenticator_data.h"
#include "webauthn/client_data.h"
#include "webauthn/verify.h"

namespace authd::testing {

// Minimal CBOR writer (definite lengths, what CTAP2 writes).
namespace cbor {
inline std::string head(int major, std::uint64_t n) {
  std::string out;
  const auto m = static_cast<char>(major << 5);
  if (n < 24) {
    out += static_cast<char>(m | static_cast<char>(n));
  } else if (n < 0x100) {
    out += static_cast<char>(m | 24);
    out += static_cast<char>(n);
  } else if (n < 0x10000) {
    out += static_cast<char>(m | 25);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n);
  } else {
    out += static_cast<char>(m | 26);
    for (int s = 24; s >= 0; s -= 8)
      out += static_cast<char>(n >> s);
  }
  return out;
}
inline std::string integer(std::int64_t v) {
  return v >= 0 ? head(0, static_cast<std::uint64_t>(v))
                : head(1, static_cast<std::uint64_t>(-1 - v));
}
inline std::string bytes(std::string_view b) {
  return head(2, b.size()) + std::string(b);
}
inline std::string text(std::string_view t) {
  return head(3, t.size()) + std::string(t);
}
inline std::string map(std::size_t pairs) {
  return head(5, pairs);
}
}  // namespace cbor

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

enum class KeyKind { es256, eddsa, rs256, es384 };

inline std::int64_t cose_alg(KeyKind kind) {
  switch (kind) {
    case KeyKind::es256:
      return -7;
    case KeyKind::eddsa:
      return -8;
    case KeyKind::rs256:
      return -257;
    case KeyKind::es384:
      return -35;
  }
  return 0;
}

// One key pair per kind for the whole test binary (RSA keygen is slow).
inline EVP_PKEY* shared_key(KeyKind kind) {
  static Pkey keys[4];
  Pkey& k = keys[static_cast<int>(kind)];
  if (!k) {
    switch (kind) {
      case KeyKind::es256:
        k.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        break;
      case KeyKind::es384:
        k.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
        break;
      case KeyKind::eddsa:
        k.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
        break;
      case KeyKind::rs256:
        k.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
        break;
    }
    if (!k) throw std::runtime_error("soft authenticator: key generation failed");
  }
  return k.get();
}

inline std::string bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error("bn param");
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

inline std::string sign_with(EVP_PKEY* key, KeyKind kind, std::string_view message) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const EVP_MD* md = kind == KeyKind::eddsa   ? nullptr
                     : kind == KeyKind::es384 ? EVP_sha384()
                                              : EVP_sha256();
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) != 1) {
    throw std::runtime_error("sign init");
  }
  std::size_t n = 0;
  auto msg = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &n, msg, message.size()) != 1) {
    throw std::runtime_error("sign size");
  }
  std::string sig(n, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n, msg,
                     message.size()) != 1) {
    throw std::runtime_error("sign");
  }
  sig.resize(n);
  return sig;
}

class SoftAuthenticator {
 public:
  explicit SoftAuthenticator(KeyKind kind = KeyKind::es256, std::string credential_id = {})
      : kind_(kind), key_(shared_key(kind)), credential_id_(std::move(credential_id)) {
    if (credential_id_.empty()) {
      static int serial = 0;
      credential_id_ = "cred-" + std::to_string(++serial) + std::string(24, 'x');
    }
  }

  KeyKind kind() const { return kind_; }
  const std::string& credential_id() const { return credential_id_; }

  // The COSE_Key of the public key (RFC 9053), with `alg` as given.
  std::string cose_key(std::int64_t alg) const {
    switch (kind_) {
      case KeyKind::es256:
      case KeyKind::es384: {
        std::size_t len = 0;
        unsigned char point[200];
        EVP_PKEY_get_octet_string_param(key_, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
        const std::size_t half = (len - 1) / 2;
        const std::string x(reinterpret_cast<char*>(point) + 1, half);
        const std::string y(reinterpret_cast<char*>(point) + 1 + half, half);
        return cbor::map(5) + cbor::integer(1) + cbor::integer(2) + cbor::integer(3) +
               cbor::integer(alg) + cbor::integer(-1) +
               cbor::integer(kind_ == KeyKind::es256 ? 1 : 2) + cbor::integer(-2) + cbor::bytes(x) +
               cbor::integer(-3) + cbor::bytes(y);
      }
      case KeyKind::eddsa: {
        unsigned char raw[32];
        std::size_t len = sizeof raw;
        EVP_PKEY_get_raw_public_key(key_, raw, &len);
        return cbor::map(4) + cbor::integer(1) + cbor::integer(1) + cbor::integer(3) +
               cbor::integer(alg) + cbor::integer(-1) + cbor::integer(6) + cbor::integer(-2) +
               cbor::bytes(std::string(reinterpret_cast<char*>(raw), len));
      }
      case KeyKind::rs256:
        return cbor::map(4) + cbor::integer(1) + cbor::integer(3) + cbor::integer(3) +
               cbor::integer(alg) + cbor::integer(-1) +
               cbor::bytes(bn_param(key_, OSSL_PKEY_PARAM_RSA_N)) + cbor::integer(-2) +
               cbor::bytes(bn_param(key_, OSSL_PKEY_PARAM_RSA_E));
    }
    return {};
  }

  // What a registration may be spoiled with.
  struct Create {
    std::string rp_id = "localhost";
    std::string origin = "http://localhost:8080";
    std::string challenge = "Y2hhbGxlbmdlLWNoYWxsZW5nZS1jaGFsbGVuZ2UtMTI";  // base64url
    std::string type = "webauthn.create";
    std::string client_data_extra;  // e.g. ",\"crossOrigin\":true"
    std::uint8_t flags = webauthn::flag::kUserPresent | webauthn::flag::kUserVerified |
                         webauthn::flag::kAttestedData;
    std::uint32_t sign_count = 0;
    std::optional<std::int64_t> alg;  // the COSE alg label; the key's own by default
    std::string trailing;             // bytes after the authenticator data's contents
    std::string extensions;           // a CBOR map, with ED set
    std::string fmt = "none";
  };

  static std::string client_data(std::string_view type, std::string_view challenge,
                                 std::string_view origin, std::string_view extra) {
    return "{\"type\":\"" + std::string(type) + "\",\"challenge\":\"" + std::string(challenge) +
           "\",\"origin\":\"" + std::string(origin) + "\"" + std::string(extra) + "}";
  }

  static std::string be32(std::uint32_t v) {
    std::string out;
    for (int s = 24; s >= 0; s -= 8)
      out += static_cast<char>(v >> s);
    return out;
  }

  std::string registration_authenticator_data(const Create& c) const {
    std::uint8_t flags = c.flags;
    if (!c.extensions.empty()) flags |= webauthn::flag::kExtensionData;
    std::string ad = webauthn::sha256(c.rp_id);
    ad += static_cast<char>(flags);
    ad += be32(c.sign_count);
    if (flags & webauthn::flag::kAttestedData) {
      ad += std::string(16, '\x01');  // aaguid
      ad += static_cast<char>(credential_id_.size() >> 8);
      ad += static_cast<char>(credential_id_.size());
      ad += credential_id_;
      ad += cose_key(c.alg.value_or(cose_alg(kind_)));
    }
    ad += c.extensions;
    ad += c.trailing;
    return ad;
  }

  static std::string attestation_object(std::string_view fmt, std::string_view auth_data) {
    return cbor::map(3) + cbor::text("fmt") + cbor::text(fmt) + cbor::text("attStmt") +
           cbor::map(0) + cbor::text("authData") + cbor::bytes(auth_data);
  }

  webauthn::Registration registration(const Create& c) const {
    webauthn::Registration r;
    r.raw_id = credential_id_;
    r.type = "public-key";
    r.client_data_json = client_data(c.type, c.challenge, c.origin, c.client_data_extra);
    r.client_data = *webauthn::parse_client_data(r.client_data_json);
    r.fmt = c.fmt;
    r.authenticator_data = registration_authenticator_data(c);
    return r;
  }

  // The credential as a browser's toJSON() sends it.
  std::string registration_json(const Create& c) const {
    const auto r = registration(c);
    const std::string id = base64url_encode(credential_id_);
    return "{\"id\":\"" + id + "\",\"rawId\":\"" + id +
           "\",\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"" +
           base64url_encode(r.client_data_json) + "\",\"attestationObject\":\"" +
           base64url_encode(attestation_object(c.fmt, r.authenticator_data)) +
           "\",\"transports\":[\"internal\"]},\"clientExtensionResults\":{}}";
  }

  struct Get {
    std::string rp_id = "localhost";
    std::string origin = "http://localhost:8080";
    std::string challenge = "Y2hhbGxlbmdlLWNoYWxsZW5nZS1jaGFsbGVuZ2UtMTI";
    std::string type = "webauthn.get";
    std::string client_data_extra;
    std::uint8_t flags = webauthn::flag::kUserPresent | webauthn::flag::kUserVerified;
    std::optional<std::uint32_t> sign_count;  // default: one more than the last
    std::string trailing;
    std::optional<std::string> user_handle;
    bool bad_signature = false;
  };

  webauthn::Assertion assertion(const Get& g) {
    webauthn::Assertion a;
    a.raw_id = credential_id_;
    a.type = "public-key";
    a.client_data_json = client_data(g.type, g.challenge, g.origin, g.client_data_extra);
    a.client_data = *webauthn::parse_client_data(a.client_data_json);
    counter_ = g.sign_count.value_or(counter_ + 1);
    a.authenticator_data =
        webauthn::sha256(g.rp_id) + static_cast<char>(g.flags) + be32(counter_) + g.trailing;
    a.signature =
        sign_with(key_, kind_, a.authenticator_data + webauthn::sha256(a.client_data_json));
    if (g.bad_signature) a.signature[a.signature.size() / 2] ^= 0x01;
    a.user_handle = g.user_handle;
    return a;
  }

  std::string assertion_json(const Get& g) {
    const auto a = assertion(g);
    const std::string id = base64url_encode(credential_id_);
    std::string out = "{\"id\":\"" + id + "\",\"rawId\":\"" + id +
                      "\",\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"" +
                      base64url_encode(a.client_data_json) + "\",\"authenticatorData\":\"" +
                      base64url_encode(a.authenticator_data) + "\",\"signature\":\"" +
                      base64url_encode(a.signature) + "\"";
    if (a.user_handle) out += ",\"userHandle\":\"" + base64url_encode(*a.user_handle) + "\"";
    return out + "},\"clientExtensionResults\":{}}";
  }

  std::uint32_t counter() const { return counter_; }
  void set_counter(std::uint32_t c) { counter_ = c; }

 private:
  KeyKind kind_;
  EVP_PKEY* key_;
  std::string credential_id_;
  std::uint32_t counter_ = 0;
};

}  // namespace authd::testing
