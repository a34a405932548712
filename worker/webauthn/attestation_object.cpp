#include "webauthn/attestation_object.h"

#include "webauthn/cbor.h"

namespace authd::webauthn {

std::optional<AttestationObject> parse_attestation_object(std::string_view bytes) {
  auto root = load_cbor(bytes);
  if (!root || !cbor_isa_map(root->get())) return std::nullopt;
  const cbor_item_t* fmt = map_text_member(root->get(), "fmt");
  const cbor_item_t* statement = map_text_member(root->get(), "attStmt");
  const cbor_item_t* auth_data = map_text_member(root->get(), "authData");
  if (fmt == nullptr || !cbor_isa_string(fmt) || statement == nullptr || !cbor_isa_map(statement) ||
      auth_data == nullptr || !cbor_isa_bytestring(auth_data)) {
    return std::nullopt;
  }
  return AttestationObject{cbor_bytes(fmt), cbor_bytes(auth_data)};
}

}  // namespace authd::webauthn
