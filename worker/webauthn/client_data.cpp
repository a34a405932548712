#include "webauthn/client_data.h"

#include "util/strict_json.h"

namespace authd::webauthn {
namespace {

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string> string_member(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = member(object, name);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

}  // namespace

std::optional<ClientData> parse_client_data(std::string_view json) {
  auto doc = parse_strict_object(json);
  if (!doc) return std::nullopt;
  ClientData data;
  auto type = string_member(*doc, "type");
  auto challenge = string_member(*doc, "challenge");
  auto origin = string_member(*doc, "origin");
  if (!type || !challenge || !origin) return std::nullopt;
  data.type = std::move(*type);
  data.challenge = std::move(*challenge);
  data.origin = std::move(*origin);
  if (const rapidjson::Value* cross = member(*doc, "crossOrigin")) {
    if (!cross->IsBool()) return std::nullopt;
    data.cross_origin = cross->GetBool();
  }
  if (const rapidjson::Value* top = member(*doc, "topOrigin")) {
    if (!top->IsString()) return std::nullopt;
    data.has_top_origin = true;
  }
  return data;
}

}  // namespace authd::webauthn
