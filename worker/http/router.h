#pragma once
// The routing table: exact paths, and paths ending in one `{param}` segment
// (a path that is an exact route is never also matched as a parameter).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "admission/gate.h"
#include "http/request.h"
#include "http/response.h"

namespace authd::http {

struct RouteParams {
  std::string_view param;  // the `{...}` segment, when the route has one
};

using Handler = std::function<Response(const Request&, RequestContext&, const RouteParams&)>;

using admission::Lane;

class Router {
 public:
  // `lane`: the listen queue nginx sends the path to. Lane::fast only for a
  // path none of whose methods ever computes Argon2id (README "Reliability":
  // token checks never wait behind hashes). Every method of a path must
  // name the same lane (nginx routes by path).
  void add(std::string method, std::string pattern, Handler handler, Lane lane = Lane::hashing);

  struct Match {
    const Handler* handler = nullptr;  // null: 404 (allow empty) or 405
    std::string_view pattern;
    RouteParams params;
    std::string allow;  // for 405: the methods the path has
    Lane lane = Lane::hashing;
  };
  Match match(std::string_view method, std::string_view path) const;

  // Every pattern once, in the order they were added (metrics label
  // requests with these).
  std::vector<std::string> patterns() const;
  // The patterns of one lane, in the same order.
  std::vector<std::string> patterns(Lane lane) const;

 private:
  struct Route {
    std::string method;
    std::string prefix;  // the pattern up to `{`, or the whole exact path
    bool has_param;
    std::string pattern;
    Handler handler;
    Lane lane;
  };
  bool path_matches(const Route& route, std::string_view path, std::string_view* param) const;

  std::vector<Route> routes_;
};

}  // namespace authd::http
