// POST /auth/logout (bearer), optional body {"all": true} → 204
#include <variant>

#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"

namespace authd::http::handlers {

Response logout(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  // The one POST whose body is optional: none at all (no body, no
  // Content-Type) is fine; anything else is judged like every body.
  bool all = false;
  if (!req.body.empty() || req.content_type) {
    auto parsed = JsonBody::parse(req, {{"all", FieldKind::boolean, false}});
    if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
    all = std::get<JsonBody>(parsed).boolean("all").value_or(false);
  }
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);

  auto outcome = deps.auth.logout(std::get<Authenticated>(who), all, client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  Response r;
  r.status = 204;
  return r;
}

}  // namespace authd::http::handlers
