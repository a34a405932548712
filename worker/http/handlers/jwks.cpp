// GET /.well-known/jwks.json → the public keys that verify access tokens
// (ES256), or 404 when tokens are signed with a secret (HS256).
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"
#include "http/problem.h"

namespace authd::http::handlers {

Response jwks(HandlerDeps& deps, const Request& req, RequestContext&) {
  if (deps.jwks_json.empty()) {
    Problem p;
    p.status = 404;
    p.code = "not_found";
    p.title = "Not found";
    p.detail = "Tokens are signed with a symmetric key: there is no public key to publish.";
    return render_problem(p, req);
  }
  Response r = json_response(200, deps.jwks_json);
  r.headers.clear();
  r.set_header("Content-Type", "application/jwk-set+json");
  return r;
}

}  // namespace authd::http::handlers
