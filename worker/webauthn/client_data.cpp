#include "webauthn/client_data.h"

#include "util/strict_json.h"

namespace authd::webauthn {

std::optional<ClientData> parse_client_data(std::string_view json) {
  auto doc = parse_strict_object(json);
  if (!doc) return std::nullopt;
  ClientData data;
  auto type = json_string_member(*doc, "type");
  auto challenge = json_string_member(*doc, "challenge");
  auto origin = json_string_member(*doc, "origin");
  if (!type || !challenge || !origin) return std::nullopt;
  data.type = std::move(*type);
  data.challenge = std::move(*challenge);
  data.origin = std::move(*origin);
  if (const rapidjson::Value* cross = json_member(*doc, "crossOrigin")) {
    if (!cross->IsBool()) return std::nullopt;
    data.cross_origin = cross->GetBool();
  }
  if (const rapidjson::Value* top = json_member(*doc, "topOrigin")) {
    if (!top->IsString()) return std::nullopt;
    data.has_top_origin = true;
  }
  return data;
}

}  // namespace authd::webauthn
