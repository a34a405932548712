#pragma once
// The routing table: exact paths, and paths ending in one `{param}` segment
// (a path that is an exact route is never also matched as a parameter).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"
#include "http/response.h"

namespace authd::http {

struct RouteParams {
  std::string_view param;  // the `{...}` segment, when the route has one
};

using Handler = std::function<Response(const Request&, RequestContext&, const RouteParams&)>;

class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: 404 (allow empty) or 405
    std::string_view pattern;
    RouteParams params;
    std::string allow;  // for 405: the methods the path has
  };
  Match match(std::string_view method, std::string_view path) const;

  // Every pattern once, in the order they were added (metrics label
  // requests with these).
  std::vector<std::string> patterns() const;

 private:
  struct Route {
    std::string method;
    std::string prefix;  // the pattern up to `{`, or the whole exact path
    bool has_param;
    std::string pattern;
    Handler handler;
  };
  bool path_matches(const Route& route, std::string_view path, std::string_view* param) const;

  std::vector<Route> routes_;
};

}  // namespace authd::http
