#include "http/json.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "util/ascii.h"
#include "util/utf8.h"

namespace authd::http {
namespace {

// Untrusted text (a user agent) may hold invalid UTF-8: each bad byte
// becomes U+FFFD instead of reaching the output.
void write_member_value(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view value) {
  if (is_valid_utf8(value)) {
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    return;
  }
  std::string clean = sanitize_utf8(value);
  w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

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
