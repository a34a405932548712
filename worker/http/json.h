#pragma once
// JSON in (strict, for hostile bodies) and out (a small writer).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/strict_json.h"
#include "util/utf8.h"

namespace authd::http {

// `application/json`, compared without regard to case, with no parameter or
// only `charset` = `utf-8` (quoted or not, any case).
bool is_json_media_type(std::string_view content_type);

// Writes one JSON object. Strings are escaped; invalid UTF-8 from untrusted
// sources (a user agent) is replaced, never copied through.
class JsonOut {
 public:
  JsonOut() : writer_(buffer_) { writer_.StartObject(); }

  JsonOut& str(std::string_view key, std::string_view value);
  JsonOut& num(std::string_view key, std::int64_t value);
  JsonOut& boolean(std::string_view key, bool value);
  JsonOut& null(std::string_view key);
  // Nested values: key then the raw writer calls, closed by the caller.
  rapidjson::Writer<rapidjson::StringBuffer>& raw() { return writer_; }
  JsonOut& key(std::string_view key);
  JsonOut& begin_object(std::string_view key);
  JsonOut& end_object();
  JsonOut& begin_array(std::string_view key);
  JsonOut& end_array();
  JsonOut& array_str(std::string_view value);

  std::string finish();

  // A string member written straight to a raw writer (inside arrays).
  static void write_member(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view key,
                           std::string_view value);

 private:
  void write_string(std::string_view value);

  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

}  // namespace authd::http
