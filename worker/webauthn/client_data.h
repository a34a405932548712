#pragma once
// The client data (WebAuthn L3 §5.8.1) as the browser serialised it: what
// the ceremony was, for which challenge and origin.
#include <optional>
#include <string>
#include <string_view>

namespace authd::webauthn {

struct ClientData {
  std::string type;       // "webauthn.create" or "webauthn.get"
  std::string challenge;  // as sent: base64url text
  std::string origin;
  std::optional<bool> cross_origin;
  bool has_top_origin = false;
};

// nullopt when `json` is not a strict JSON object (valid UTF-8, no member
// named twice) with `type`, `challenge` and `origin` strings, a boolean
// `crossOrigin` if any and a string `topOrigin` if any: a malformed
// credential (400), as opposed to one that fails a check (422 / 401).
std::optional<ClientData> parse_client_data(std::string_view json);

}  // namespace authd::webauthn
