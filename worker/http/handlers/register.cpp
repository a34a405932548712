// POST /auth/register {"email", "password"} → 201 {id, email, created_at}
#include <variant>

#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"
#include "util/time_format.h"

namespace authd::http::handlers {

Response register_user(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"email"}, {"password"}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);

  auto outcome =
      deps.auth.register_user(body.string("email"), body.string("password"), client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  const User& user = outcome.value();
  ctx.user_id = user.id.to_string();
  JsonOut out;
  out.str("id", ctx.user_id)
      .str("email", user.email)
      .str("created_at", format_rfc3339(user.created_at));
  Response r = json_response(201, out.finish());
  r.set_header("Location", "/auth/me");
  return r;
}

}  // namespace authd::http::handlers
