#include "http/router.h"

#include <algorithm>
#include <stdexcept>

namespace authd::http {

void Router::lane_by_method(std::string pattern) {
  lane_by_method_.push_back(std::move(pattern));
}

void Router::add(std::string method, std::string pattern, Handler handler, Lane lane) {
  const bool by_method =
      std::find(lane_by_method_.begin(), lane_by_method_.end(), pattern) != lane_by_method_.end();
  for (const auto& existing : routes_) {
    if (existing.pattern == pattern && existing.lane != lane && !by_method) {
      throw std::logic_error("route " + pattern + " named in two lanes");
    }
  }
  Route r;
  r.lane = lane;
  r.method = std::move(method);
  auto brace = pattern.find('{');
  r.has_param = brace != std::string::npos;
  r.prefix = r.has_param ? pattern.substr(0, brace) : pattern;
  if (r.has_param) {
    const auto close = pattern.find('}', brace);
    r.suffix = close == std::string::npos ? std::string() : pattern.substr(close + 1);
  }
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

bool Router::path_matches(const Route& route, std::string_view path,
                          std::string_view* param) const {
  if (!route.has_param) return path == route.prefix;
  if (path.size() <= route.prefix.size() + route.suffix.size() || !path.starts_with(route.prefix) ||
      !path.ends_with(route.suffix))
    return false;
  // The parameter is one whole, non-empty segment.
  std::string_view segment =
      path.substr(route.prefix.size(), path.size() - route.prefix.size() - route.suffix.size());
  if (segment.empty() || segment.find('/') != std::string_view::npos) return false;
  *param = segment;
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
    if (m.pattern.empty()) m.lane = route.lane;  // the path's lane: its first method's
    m.pattern = route.pattern;
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
  for (const std::string& pattern : patterns()) {
    const auto first = std::find_if(routes_.begin(), routes_.end(),
                                    [&](const Route& route) { return route.pattern == pattern; });
    if (first->lane == lane) out.push_back(pattern);
  }
  return out;
}

}  // namespace authd::http
