// GET /health (liveness) and GET /health/ready (the database answers).
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"
#include "http/problem.h"

namespace authd::http::handlers {

Response health(HandlerDeps&, const Request&, RequestContext&) {
  return json_response(200, R"({"status":"ok"})");
}

Response health_ready(HandlerDeps& deps, const Request& req, RequestContext&) {
  if (deps.health.database_ready()) return json_response(200, R"({"status":"ready"})");
  Problem p = unavailable();
  p.detail = "The database does not answer.";
  return render_problem(p, req);
}

}  // namespace authd::http::handlers
