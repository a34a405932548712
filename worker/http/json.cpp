#include "http/json.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace authd::http {
namespace {

constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  std::uint32_t cp, min;
  if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// Untrusted text (a user agent) may hold invalid UTF-8: each bad byte
// becomes U+FFFD instead of reaching the output.
void write_member_value(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view value) {
  std::string clean;
  for (std::size_t i = 0; i < value.size();) {
    std::size_t n = utf8_length(value, i);
    if (n == 0) {
      clean += "\xEF\xBF\xBD";
      ++i;
    } else {
      clean.append(value.substr(i, n));
      i += n;
    }
  }
  w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

std::string_view view(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// RapidJSON 1.1.0 checks the raw bytes (kParseValidateEncodingFlag) but
// turns a `\udc00` escape into the bytes of a lone surrogate, and keeps the
// first of two equal member names: both are checked here, over the whole
// tree, without recursion.
bool tree_is_clean(const rapidjson::Value& root) {
  std::vector<const rapidjson::Value*> stack{&root};
  std::vector<std::string_view> names;
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

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::optional<rapidjson::Document> parse_strict_object(std::string_view body) {
  // RapidJSON's memory stream reads a NUL byte as the end of input, so
  // `{}\0junk` would parse as `{}`: no raw NUL is valid JSON anyway.
  if (body.find('\0') != std::string_view::npos) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  if (!tree_is_clean(doc)) return std::nullopt;
  return doc;
}

bool is_json_media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  if (lower_ascii(trim_ows(content_type.substr(0, semi))) != "application/json") return false;
  if (semi == std::string_view::npos) return true;
  std::string_view params = content_type.substr(semi + 1);
  // Exactly one parameter, `charset=utf-8` (value optionally quoted).
  if (params.find(';') != std::string_view::npos) return false;
  auto eq = params.find('=');
  if (eq == std::string_view::npos) return false;
  if (lower_ascii(trim_ows(params.substr(0, eq))) != "charset") return false;
  std::string_view value = trim_ows(params.substr(eq + 1));
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  return lower_ascii(value) == "utf-8";
}

void JsonOut::write_string(std::string_view value) {
  write_member_value(writer_, value);
}

JsonOut& JsonOut::key(std::string_view k) {
  writer_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  return *this;
}
JsonOut& JsonOut::str(std::string_view k, std::string_view value) {
  key(k);
  write_string(value);
  return *this;
}
JsonOut& JsonOut::num(std::string_view k, std::int64_t value) {
  key(k);
  writer_.Int64(value);
  return *this;
}
JsonOut& JsonOut::boolean(std::string_view k, bool value) {
  key(k);
  writer_.Bool(value);
  return *this;
}
JsonOut& JsonOut::null(std::string_view k) {
  key(k);
  writer_.Null();
  return *this;
}
JsonOut& JsonOut::begin_object(std::string_view k) {
  key(k);
  writer_.StartObject();
  return *this;
}
JsonOut& JsonOut::end_object() {
  writer_.EndObject();
  return *this;
}
JsonOut& JsonOut::begin_array(std::string_view k) {
  key(k);
  writer_.StartArray();
  return *this;
}
JsonOut& JsonOut::end_array() {
  writer_.EndArray();
  return *this;
}
JsonOut& JsonOut::array_str(std::string_view value) {
  write_string(value);
  return *this;
}

void JsonOut::write_member(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view key,
                           std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  write_member_value(w, value);
}

std::string JsonOut::finish() {
  writer_.EndObject();
  return std::string(buffer_.GetString(), buffer_.GetSize());
}

}  // namespace authd::http
