// GET /auth/verify (bearer) → 204 with X-Auth-User-Id / X-Auth-Email /
// X-Auth-AMR for nginx `auth_request`; 401 otherwise. No body either way:
// nginx discards it.
//
// `?require_amr=otp` (an addition to API.md, for a location that admits only
// tokens of a login completed with the second factor): a valid token whose
// `amr` lacks the value answers 403, which auth_request turns into a 403.
#include <algorithm>
#include <variant>

#include "http/handlers/handlers.h"
#include "http/handlers/views.h"

namespace authd::http::handlers {

Response verify(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) {
    Response r = std::move(*denied);
    r.body.clear();
    std::erase_if(r.headers, [](const auto& h) { return h.first == "Content-Type"; });
    return r;
  }
  const auto& claims = std::get<Authenticated>(who).claims;
  constexpr std::string_view kRequireAmr = "require_amr=";
  if (std::string_view query = req.query; query.starts_with(kRequireAmr)) {
    const std::string_view wanted = query.substr(kRequireAmr.size());
    if (std::find(claims.amr.begin(), claims.amr.end(), wanted) == claims.amr.end()) {
      Response r;
      r.status = 403;
      return r;
    }
  }
  std::string amr;
  for (const auto& m : claims.amr) {
    if (!amr.empty()) amr += ',';
    amr += m;
  }
  Response r;
  r.status = 204;
  r.set_header("X-Auth-User-Id", claims.sub);
  r.set_header("X-Auth-Email", claims.email);
  r.set_header("X-Auth-AMR", amr);
  return r;
}

}  // namespace authd::http::handlers
