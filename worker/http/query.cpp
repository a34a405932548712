#include "http/query.h"

#include "util/hex.h"

namespace authd::http {

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

ParsedQuery parse_query(std::string_view query) {
  ParsedQuery parsed;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    const std::string_view raw_name = part.substr(0, eq);
    const bool has_value = eq != std::string_view::npos;
    auto name = percent_decode(raw_name);
    std::optional<std::string> value =
        has_value ? percent_decode(part.substr(eq + 1)) : std::string();
    if (!name || !value) {
      if (!parsed.malformed) parsed.malformed = name ? *name : std::string(raw_name);
      continue;
    }
    parsed.params.push_back({std::move(*name), std::move(*value), has_value});
  }
  return parsed;
}

std::optional<std::string_view> ParsedQuery::get(std::string_view name) const {
  for (const auto& p : params)
    if (p.name == name) return std::string_view(p.value);
  return std::nullopt;
}

std::size_t ParsedQuery::count(std::string_view name) const {
  std::size_t seen = 0;
  for (const auto& p : params)
    seen += p.name == name;
  return seen;
}

std::optional<std::string_view> ParsedQuery::repeated(
    std::initializer_list<std::string_view> names) const {
  for (std::string_view name : names)
    if (count(name) > 1) return name;
  return std::nullopt;
}

}  // namespace authd::http
