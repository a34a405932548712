#include "log/log.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "util/process_id.h"
#include "util/utf8.h"

namespace authd::log {
namespace {

LogLevel g_level = LogLevel::info;
std::string g_request_id;
std::string g_component = "authd";

// Appends `value` in decimal (to_chars: no locale, no allocation).
void append_integer(std::string& out, std::int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// Appends `value` with exactly `width` digits, zero-padded (value >= 0).
void append_padded(std::string& out, long value, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

// 2024-05-01T12:34:56.789Z, UTC.
void append_timestamp(std::string& out) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto secs = time_point_cast<seconds>(now);
  const long millis = static_cast<long>(duration_cast<milliseconds>(now - secs).count());
  const std::time_t t = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  append_padded(out, tm.tm_year + 1900, 4);
  out += '-';
  append_padded(out, tm.tm_mon + 1, 2);
  out += '-';
  append_padded(out, tm.tm_mday, 2);
  out += 'T';
  append_padded(out, tm.tm_hour, 2);
  out += ':';
  append_padded(out, tm.tm_min, 2);
  out += ':';
  append_padded(out, tm.tm_sec, 2);
  out += '.';
  append_padded(out, millis, 3);
  out += 'Z';
}

// A double with three decimals, as "%.3f" would print it, without printf.
void append_fixed3(std::string& out, double value) {
  if (!std::isfinite(value) || std::fabs(value) >= 1e15) {
    if (!std::isfinite(value)) {
      out += "null";
      return;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", value);
    out += buf;
    return;
  }
  const auto thousandths = static_cast<std::int64_t>(std::llround(std::fabs(value) * 1000.0));
  if (value < 0 && thousandths != 0) out += '-';
  append_integer(out, thousandths / 1000);
  out += '.';
  append_padded(out, static_cast<long>(thousandths % 1000), 3);
}

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
    append_integer(out, *i);
  } else if (auto* d = std::get_if<double>(&value)) {
    append_fixed3(out, *d);
  } else if (auto* b = std::get_if<bool>(&value)) {
    out += *b ? "true" : "false";
  } else {
    out += "null";
  }
}

void emit(LogLevel level, std::string_view event, std::initializer_list<Field> fields,
          bool is_audit) {
  std::string line;
  line.reserve(256);
  line += "{\"ts\":\"";
  append_timestamp(line);
  line += "\",\"level\":\"";
  line += level_name(level);
  line += "\",\"component\":";
  append_json_string(line, g_component);
  line += ",\"pid\":";
  append_integer(line, current_pid());
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
  std::size_t i = 0;
  while (i < text.size()) {
    // The common case, printable ASCII without quote or backslash: copied
    // in runs, not byte by byte.
    std::size_t run = i;
    while (run < text.size()) {
      const unsigned char c = static_cast<unsigned char>(text[run]);
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') break;
      ++run;
    }
    out.append(text.data() + i, run - i);
    i = run;
    if (i == text.size()) break;
    const unsigned char c = static_cast<unsigned char>(text[i]);
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
      default:  // the other control characters and DEL
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0x0f];
    }
    ++i;
  }
  out += '"';
}

}  // namespace authd::log
