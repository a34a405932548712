#pragma once
// The routing table: exact paths, and paths with one `{param}` segment
// (anywhere: `/auth/sessions/{id}`, `/admin/users/{id}/disable`). A path
// that is an exact route is never also matched as a parameter.
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
  // `lane`: the listen queue nginx sends the request to. Lane::fast only for
  // a route that never computes Argon2id (README "Reliability": token checks
  // never wait behind hashes). nginx routes by path, so every method of a
  // path must name the same lane: the path's lane, that of its method added
  // first, which also answers the path's 405s. The exception is a path
  // declared with lane_by_method() (before its routes): its nginx location
  // sends each method added with another lane to that lane (/auth/me: GET
  // checks a token in the fast lane, DELETE asks the password again and
  // hashes in the hashing lane).
  void add(std::string method, std::string pattern, Handler handler, Lane lane = Lane::hashing);
  // Lets the methods of `pattern` name different lanes; nginx's location
  // for it must then choose the lane by method (nginx/authd.conf.template).
  void lane_by_method(std::string pattern);

  struct Match {
    const Handler* handler = nullptr;  // null: 404 (allow empty) or 405
    std::string_view pattern;
    RouteParams params;
    std::string allow;          // for 405: the methods the path has
    Lane lane = Lane::hashing;  // the route's; for a 405, the path's
  };
  Match match(std::string_view method, std::string_view path) const;

  // Every pattern once, in the order they were added (metrics label
  // requests with these).
  std::vector<std::string> patterns() const;
  // The patterns whose path lane (above) is `lane`, in the same order.
  std::vector<std::string> patterns(Lane lane) const;

 private:
  struct Route {
    std::string method;
    std::string prefix;  // the pattern up to `{`, or the whole exact path
    std::string suffix;  // the pattern after the `{...}` segment ("" when it ends the path)
    bool has_param;
    std::string pattern;
    Handler handler;
    Lane lane;
  };
  bool path_matches(const Route& route, std::string_view path, std::string_view* param) const;

  std::vector<Route> routes_;
  std::vector<std::string> lane_by_method_;
};

}  // namespace authd::http
