#pragma once
// JSON lines on stderr, one object per event, written with a single write()
// so lines from concurrent processes never interleave. Secrets never go in:
// callers pass ids, routes and outcomes, not passwords, tokens or hashes.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "config/config.h"

namespace authd::log {

using Value = std::variant<std::string_view, std::int64_t, double, bool, std::nullptr_t>;

struct Field {
  std::string_view key;
  Value value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, std::int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, long long v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, unsigned long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, std::nullptr_t) : key(k), value(nullptr) {}
  // A string, or null when empty (an id that is not known).
  static Field optional(std::string_view k, std::string_view v) {
    return v.empty() ? Field(k, nullptr) : Field(k, v);
  }
  static Field optional(std::string_view k, const std::optional<std::int64_t>& v) {
    return v ? Field(k, *v) : Field(k, nullptr);
  }
};

void set_level(LogLevel level);
LogLevel level();
bool enabled(LogLevel level);

// The request being served by this process (one at a time), so every line
// about it carries its id without threading it through every call.
void set_request_id(std::string_view request_id);
void clear_request_id();

// A process role shown in every line ("master", "worker", "migrate", ...).
void set_component(std::string_view component);

void write(LogLevel level, std::string_view event, std::initializer_list<Field> fields = {});

inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(LogLevel::debug)) write(LogLevel::debug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(LogLevel::info)) write(LogLevel::info, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(LogLevel::warning)) write(LogLevel::warning, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(LogLevel::error, event, fields);
}

// Audit events (ASVS V16): always written, whatever LOGLEVEL says, with
// "audit": true so they can be routed apart.
void audit(std::string_view event, std::initializer_list<Field> fields);

// Appends `text` to `out` as a JSON string literal (quotes included),
// escaping control characters and replacing invalid UTF-8.
void append_json_string(std::string& out, std::string_view text);

}  // namespace authd::log
