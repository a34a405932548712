#include "webauthn/authenticator_data.h"

#include "webauthn/cbor.h"

namespace authd::webauthn {
namespace {

constexpr std::size_t kFixedBytes = 32 + 1 + 4;
constexpr std::size_t kAaguidBytes = 16;
constexpr std::int64_t kCoseAlgLabel = 3;

std::uint32_t big_endian(std::string_view bytes) {
  std::uint32_t v = 0;
  for (unsigned char c : bytes)
    v = v << 8 | c;
  return v;
}

}  // namespace

std::variant<AuthenticatorData, AuthDataDefect> parse_authenticator_data(std::string_view raw,
                                                                         bool registration) {
  if (raw.size() < kFixedBytes) return AuthDataDefect::too_short;
  AuthenticatorData data;
  data.rp_id_hash = std::string(raw.substr(0, 32));
  data.flags = static_cast<std::uint8_t>(raw[32]);
  data.sign_count = big_endian(raw.substr(33, 4));
  std::string_view rest = raw.substr(kFixedBytes);

  if (data.has(flag::kAttestedData) != registration) {
    return registration ? AuthDataDefect::no_attested_data : AuthDataDefect::unexpected_attested;
  }
  if (registration) {
    if (rest.size() < kAaguidBytes + 2) return AuthDataDefect::too_short;
    AttestedCredential cred;
    cred.aaguid = std::string(rest.substr(0, kAaguidBytes));
    const std::size_t id_length = big_endian(rest.substr(kAaguidBytes, 2));
    rest.remove_prefix(kAaguidBytes + 2);
    if (rest.size() < id_length) return AuthDataDefect::too_short;
    cred.credential_id = std::string(rest.substr(0, id_length));
    rest.remove_prefix(id_length);
    auto key = load_cbor_prefix(rest);
    if (!key || !cbor_isa_map(key->item.get())) return AuthDataDefect::bad_public_key;
    cred.cose_key = std::string(rest.substr(0, key->length));
    cred.alg = cbor_int(map_int_member(key->item.get(), kCoseAlgLabel)).value_or(0);
    rest.remove_prefix(key->length);
    data.attested = std::move(cred);
  }
  if (data.has(flag::kExtensionData)) {
    auto extensions = load_cbor_prefix(rest);
    if (!extensions || !cbor_isa_map(extensions->item.get())) return AuthDataDefect::bad_extensions;
    rest.remove_prefix(extensions->length);
  }
  data.trailing = rest.size();
  return data;
}

}  // namespace authd::webauthn
