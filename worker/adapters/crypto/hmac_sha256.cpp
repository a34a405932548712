#include "adapters/crypto/hmac_sha256.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdexcept>

namespace authd {

void HmacSha256::Free::operator()(EVP_MAC_CTX* ctx) const noexcept {
  EVP_MAC_CTX_free(ctx);
}

HmacSha256::HmacSha256(std::string_view key) {
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (hmac == nullptr) throw std::runtime_error("OpenSSL: no HMAC");
  ctx_.reset(EVP_MAC_CTX_new(hmac));
  EVP_MAC_free(hmac);  // the context keeps its own reference
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (!ctx_ || EVP_MAC_init(ctx_.get(), reinterpret_cast<const unsigned char*>(key.data()),
                            key.size(), params) != 1) {
    throw std::runtime_error("OpenSSL: cannot set up HMAC-SHA-256");
  }
}

HmacSha256::Mac HmacSha256::mac(std::string_view input) const {
  Mac out{};
  std::size_t length = 0;
  // A null key restarts the MAC with the key already set (its pads kept).
  if (EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(ctx_.get(), reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1 ||
      EVP_MAC_final(ctx_.get(), out.data(), &length, out.size()) != 1 || length != out.size()) {
    throw std::runtime_error("OpenSSL: HMAC-SHA-256 failed");
  }
  return out;
}

}  // namespace authd
