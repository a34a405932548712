// POST /auth/password {"email", "current_password", "new_password"} → 200 token pair
#include <variant>

#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"

namespace authd::http::handlers {

Response change_password(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(
      req, {{"email"}, {"current_password"}, {"new_password"}, {"code", FieldKind::string, false}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);

  std::optional<std::string_view> code;
  if (body.has("code")) code = body.string("code");
  auto outcome = deps.auth.change_password(body.string("email"), body.string("current_password"),
                                           body.string("new_password"), code, client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  ctx.user_id = outcome.value().user.id.to_string();
  return token_grant_response(outcome.value());
}

}  // namespace authd::http::handlers
