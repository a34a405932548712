#include "util/strict_json.h"

#include <algorithm>
#include <vector>

#include "util/utf8.h"

namespace authd {
namespace {

// Never kParseFullPrecisionFlag (CVE-2024-38517) or kParseStopWhenDoneFlag
// (accepts trailing junk); iterative, so deep nesting cannot overflow the
// stack (NOTES-deps.md).
constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

std::string_view view(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// RapidJSON 1.1.0 checks the raw bytes (kParseValidateEncodingFlag) but
// turns a `\udc00` escape into the bytes of a lone surrogate, and keeps the
// first of two equal member names: both are checked here, over the whole
// tree, without recursion.
bool tree_is_clean(const rapidjson::Value& root) {
  // Room for the usual documents (a body, a token's claims) from the start:
  // growing one element at a time costs an allocation per doubling.
  std::vector<const rapidjson::Value*> stack;
  stack.reserve(32);
  stack.push_back(&root);
  std::vector<std::string_view> names;
  names.reserve(32);
  while (!stack.empty()) {
    const rapidjson::Value* v = stack.back();
    stack.pop_back();
    if (v->IsString()) {
      if (!is_valid_utf8(view(*v))) return false;
    } else if (v->IsArray()) {
      for (const auto& item : v->GetArray())
        stack.push_back(&item);
    } else if (v->IsObject()) {
      names.clear();
      for (const auto& m : v->GetObject()) {
        if (!is_valid_utf8(view(m.name))) return false;
        names.push_back(view(m.name));
        stack.push_back(&m.value);
      }
      std::sort(names.begin(), names.end());
      if (std::adjacent_find(names.begin(), names.end()) != names.end()) return false;
    }
  }
  return true;
}

}  // namespace

std::optional<rapidjson::Document> parse_strict_object(std::string_view text) {
  // RapidJSON's memory stream reads a NUL byte as the end of input, so
  // `{}\0junk` would parse as `{}`: no raw NUL is valid JSON anyway.
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  if (!tree_is_clean(doc)) return std::nullopt;
  return doc;
}

const rapidjson::Value* json_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string> json_string_member(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = json_member(object, name);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

}  // namespace authd
