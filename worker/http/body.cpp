#include "http/body.h"

#include <strings.h>

namespace authd::http {

bool declares_json(const Request& request) {
  return request.content_type && is_json_media_type(*request.content_type);
}

std::variant<JsonBody, Problem> JsonBody::parse(const Request& request,
                                                std::initializer_list<FieldSpec> fields) {
  if (!declares_json(request)) return unsupported_media_type();
  auto doc = parse_strict_object(request.body);
  if (!doc) return invalid_json();
  JsonBody body(std::move(*doc));
  for (const auto& spec : fields) {
    const rapidjson::Value* v = body.find(spec.name);
    if (v == nullptr) {
      if (spec.required) return missing_field(spec.name);
      continue;
    }
    const bool right_type = spec.kind == FieldKind::string    ? v->IsString()
                            : spec.kind == FieldKind::boolean ? v->IsBool()
                                                              : v->IsObject();
    if (!right_type) return invalid_field(spec.name);  // `null` included
  }
  return body;
}

const rapidjson::Value* JsonBody::find(std::string_view name) const {
  rapidjson::Value key(rapidjson::StringRef(name.data(), name.size()));
  auto it = doc_.FindMember(key);
  return it == doc_.MemberEnd() ? nullptr : &it->value;
}

std::string_view JsonBody::string(std::string_view name) const {
  const rapidjson::Value* v = find(name);
  if (v == nullptr || !v->IsString()) return {};
  return {v->GetString(), v->GetStringLength()};
}

std::optional<bool> JsonBody::boolean(std::string_view name) const {
  const rapidjson::Value* v = find(name);
  if (v == nullptr || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

const rapidjson::Value* JsonBody::object(std::string_view name) const {
  const rapidjson::Value* v = find(name);
  return v != nullptr && v->IsObject() ? v : nullptr;
}

bool JsonBody::has(std::string_view name) const {
  return find(name) != nullptr;
}

BearerCredential bearer_credential(const Request& request) {
  BearerCredential cred;
  if (!request.authorization) return cred;
  std::string_view h = *request.authorization;
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t'))
    h.remove_prefix(1);
  constexpr std::string_view kScheme = "bearer";
  if (h.size() < kScheme.size() || strncasecmp(h.data(), kScheme.data(), kScheme.size()) != 0) {
    return cred;  // another scheme counts as none (RFC 6750 §3.1)
  }
  h.remove_prefix(kScheme.size());
  if (!h.empty() && h.front() != ' ' && h.front() != '\t') return cred;  // "Bearerx"
  cred.sent = true;
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t'))
    h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t'))
    h.remove_suffix(1);
  cred.token = h;
  return cred;
}

}  // namespace authd::http
