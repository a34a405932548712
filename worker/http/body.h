#pragma once
// A request body judged in API.md's order: media type (415), JSON shape
// (400 invalid_json), then each member in the order the endpoint lists it
// (400 missing_field / invalid_field, `field` naming the first that fails).
#include <initializer_list>
#include <optional>
#include <string_view>
#include <variant>

#include "http/json.h"
#include "http/problem.h"
#include "http/request.h"

namespace authd::http {

enum class FieldKind { string, boolean, object };

struct FieldSpec {
  std::string_view name;
  FieldKind kind = FieldKind::string;
  bool required = true;
};

class JsonBody {
 public:
  static std::variant<JsonBody, Problem> parse(const Request& request,
                                               std::initializer_list<FieldSpec> fields);

  // A member the spec listed (empty / nullopt when optional and absent).
  std::string_view string(std::string_view name) const;
  std::optional<bool> boolean(std::string_view name) const;
  // An object member (null when absent): for nested structures the
  // endpoint reads itself (a passkey credential).
  const rapidjson::Value* object(std::string_view name) const;
  bool has(std::string_view name) const;

 private:
  explicit JsonBody(rapidjson::Document doc) : doc_(std::move(doc)) {}
  const rapidjson::Value* find(std::string_view name) const;

  rapidjson::Document doc_;
};

// The media-type judgement alone, for bodies that may be absent (logout).
bool declares_json(const Request& request);

// The `Authorization: Bearer <token>` credential, if one was sent.
struct BearerCredential {
  bool sent = false;  // a Bearer scheme was present (even with a bad token)
  std::string_view token;
};
BearerCredential bearer_credential(const Request& request);

}  // namespace authd::http
