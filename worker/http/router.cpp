#include "http/router.h"

#include <algorithm>
#include <stdexcept>

namespace authd::http {

void Router::add(std::string method, std::string pattern, Handler handler, Lane lane) {
  for (const auto& existing : routes_) {
    if (existing.pattern == pattern && existing.lane != lane) {
      throw std::logic_error("route " + pattern + " named in two lanes");
    }
  }
  Route r;
  r.lane = lane;
  r.method = std::move(method);
  auto brace = pattern.find('{');
  r.has_param = brace != std::string::npos;
  r.prefix = r.has_param ? pattern.substr(0, brace) : pattern;
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

bool Router::path_matches(const Route& route, std::string_view path,
                          std::string_view* param) const {
  if (!route.has_param) return path == route.prefix;
  if (path.size() <= route.prefix.size() || path.substr(0, route.prefix.size()) != route.prefix)
    return false;
  std::string_view rest = path.substr(route.prefix.size());
  if (rest.find('/') != std::string_view::npos) return false;
  *param = rest;
  return true;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  // A path that is a route of its own is never also a `{param}` of another
  // (/auth/passkeys/register is not the passkey "register").
  const bool exact = std::any_of(routes_.begin(), routes_.end(), [&](const Route& route) {
    return !route.has_param && route.prefix == path;
  });
  for (const auto& route : routes_) {
    std::string_view param;
    if (exact && route.has_param) continue;
    if (!path_matches(route, path, &param)) continue;
    if (route.method == method) {
      m.handler = &route.handler;
      m.pattern = route.pattern;
      m.params.param = param;
      m.allow.clear();
      m.lane = route.lane;
      return m;
    }
    m.pattern = route.pattern;
    m.lane = route.lane;
    if (m.allow.find(route.method) == std::string::npos) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += route.method;
    }
  }
  return m;
}

std::vector<std::string> Router::patterns() const {
  std::vector<std::string> out;
  for (const auto& route : routes_) {
    if (std::find(out.begin(), out.end(), route.pattern) == out.end()) out.push_back(route.pattern);
  }
  return out;
}

std::vector<std::string> Router::patterns(Lane lane) const {
  std::vector<std::string> out;
  for (const auto& route : routes_) {
    if (route.lane == lane && std::find(out.begin(), out.end(), route.pattern) == out.end()) {
      out.push_back(route.pattern);
    }
  }
  return out;
}

}  // namespace authd::http
