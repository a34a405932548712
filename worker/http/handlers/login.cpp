// POST /auth/login {"email", "password"} → 200 token pair
#include <variant>

#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"

namespace authd::http::handlers {

Response login(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"email"}, {"password"}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);

  auto outcome = deps.auth.login(body.string("email"), body.string("password"), client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  ctx.user_id = outcome.value().user.id.to_string();
  return token_grant_response(outcome.value());
}

}  // namespace authd::http::handlers
