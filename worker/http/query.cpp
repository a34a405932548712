#include "http/query.h"

#include "util/ascii.h"

namespace authd::http {

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = hex_digit_value(text[i + 1]);
    const int lo = hex_digit_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

ParsedQuery parse_query(std::string_view query) {
  ParsedQuery parsed;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto name = percent_decode(raw_name);
    auto value = percent_decode(raw_value);
    if (!name || !value) {
      if (!parsed.malformed) parsed.malformed = name ? *name : std::string(raw_name);
      continue;
    }
    parsed.params.push_back({std::move(*name), std::move(*value)});
  }
  return parsed;
}

std::optional<std::string_view> ParsedQuery::get(std::string_view name) const {
  for (const auto& p : params)
    if (p.name == name) return std::string_view(p.value);
  return std::nullopt;
}

std::optional<std::string_view> ParsedQuery::repeated(
    std::initializer_list<std::string_view> names) const {
  for (std::string_view name : names) {
    int seen = 0;
    for (const auto& p : params)
      seen += p.name == name;
    if (seen > 1) return name;
  }
  return std::nullopt;
}

}  // namespace authd::http
