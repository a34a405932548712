// POST /auth/refresh {"refresh_token"} → 200 a new pair (rotation)
#include <variant>

#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"

namespace authd::http::handlers {

Response refresh(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"refresh_token"}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);

  auto outcome = deps.auth.refresh(body.string("refresh_token"), client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  ctx.user_id = outcome.value().user.id.to_string();
  return token_grant_response(outcome.value());
}

}  // namespace authd::http::handlers
