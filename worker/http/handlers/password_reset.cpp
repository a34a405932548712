// POST /auth/password/reset {"token", "new_password"} → 200 the login body
#include <variant>

#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"

namespace authd::http::handlers {

Response reset_password(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"token"}, {"new_password"}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);

  auto outcome =
      deps.auth.reset_password(body.string("token"), body.string("new_password"), client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  ctx.user_id = outcome.value().user.id.to_string();
  return token_grant_response(outcome.value());
}

}  // namespace authd::http::handlers
