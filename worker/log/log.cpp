#include "log/log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "util/utf8.h"

namespace authd::log {
namespace {

LogLevel g_level = LogLevel::info;
std::string g_request_id;
std::string g_component = "authd";

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

void append_value(std::string& out, const Value& value) {
  if (auto* s = std::get_if<std::string_view>(&value)) {
    append_json_string(out, *s);
  } else if (auto* i = std::get_if<std::int64_t>(&value)) {
    out += std::to_string(*i);
  } else if (auto* d = std::get_if<double>(&value)) {
    if (std::isfinite(*d)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", *d);
      out += buf;
    } else {
      out += "null";
    }
  } else if (auto* b = std::get_if<bool>(&value)) {
    out += *b ? "true" : "false";
  } else {
    out += "null";
  }
}

void emit(LogLevel level, std::string_view event, std::initializer_list<Field> fields,
          bool is_audit) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = time_point_cast<seconds>(now);
  auto millis = duration_cast<milliseconds>(now - secs).count();
  std::time_t t = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));

  std::string line;
  line.reserve(256);
  line += "{\"ts\":\"";
  line += ts;
  line += "\",\"level\":\"";
  line += level_name(level);
  line += "\",\"component\":";
  append_json_string(line, g_component);
  line += ",\"pid\":";
  line += std::to_string(::getpid());
  line += ",\"event\":";
  append_json_string(line, event);
  if (is_audit) line += ",\"audit\":true";
  if (!g_request_id.empty()) {
    line += ",\"request_id\":";
    append_json_string(line, g_request_id);
  }
  for (const auto& f : fields) {
    line += ',';
    append_json_string(line, f.key);
    line += ':';
    append_value(line, f.value);
  }
  line += "}\n";
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report it
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

void set_level(LogLevel level) {
  g_level = level;
}
LogLevel level() {
  return g_level;
}
bool enabled(LogLevel level) {
  return static_cast<int>(level) >= static_cast<int>(g_level);
}

void set_request_id(std::string_view request_id) {
  g_request_id.assign(request_id);
}
void clear_request_id() {
  g_request_id.clear();
}
void set_component(std::string_view component) {
  g_component.assign(component);
}

void write(LogLevel level, std::string_view event, std::initializer_list<Field> fields) {
  emit(level, event, fields, false);
}

void audit(std::string_view event, std::initializer_list<Field> fields) {
  emit(LogLevel::info, event, fields, true);
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t n = utf8_sequence_length(text, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0x0f];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

}  // namespace authd::log
