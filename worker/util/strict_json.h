#pragma once
// Strict JSON for hostile input (request bodies, token segments): valid
// UTF-8 (a `\u` escape of a lone surrogate included), one top-level object,
// no member named twice at any depth, nothing after it, no raw NUL. Any
// nesting that fits the input is answered (iterative parser).
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

namespace authd {

std::optional<rapidjson::Document> parse_strict_object(std::string_view text);

// A member of an object, or null when absent (RapidJSON's operator[] would
// abort on a missing one).
const rapidjson::Value* json_member(const rapidjson::Value& object, const char* name);
// A string member's bytes (NULs kept), or nullopt when absent or not a string.
std::optional<std::string> json_string_member(const rapidjson::Value& object, const char* name);

}  // namespace authd
