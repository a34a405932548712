#pragma once
// Strict JSON for hostile input (request bodies, token segments): valid
// UTF-8 (a `\u` escape of a lone surrogate included), one top-level object,
// no member named twice at any depth, nothing after it, no raw NUL. Any
// nesting that fits the input is answered (iterative parser).
#include <rapidjson/document.h>

#include <optional>
#include <string_view>

namespace authd {

std::optional<rapidjson::Document> parse_strict_object(std::string_view text);

}  // namespace authd
