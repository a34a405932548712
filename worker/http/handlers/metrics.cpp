// GET /metrics → the pool's metrics in the Prometheus text format, only to
// client addresses in METRICS_ALLOW; everyone else gets the same 404 as a
// path that does not exist, so the endpoint is not advertised. The address
// is REMOTE_ADDR as nginx sets it (the peer, or what realip believed of
// X-Forwarded-For from a trusted proxy).
#include "http/handlers/handlers.h"
#include "http/problem.h"

namespace authd::http::handlers {

Response metrics(HandlerDeps& deps, const Request& req, RequestContext&) {
  if (!deps.metrics.render || !deps.metrics.allow.contains(req.remote_addr)) {
    return render_problem(not_found(), req);
  }
  Response r;
  r.status = 200;
  r.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  r.body = deps.metrics.render();
  return r;
}

}  // namespace authd::http::handlers
