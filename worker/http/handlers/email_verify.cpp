// POST /auth/email/verify {"token"} → 200 {id, email, email_verified_at}
#include <variant>

#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"
#include "util/time_format.h"

namespace authd::http::handlers {

Response verify_email(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"token"}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);

  auto outcome = deps.auth.verify_email(body.string("token"), client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  const User& user = outcome.value();
  ctx.user_id = user.id.to_string();
  JsonOut out;
  out.str("id", ctx.user_id).str("email", user.email);
  // Set by the verification that just succeeded (or an earlier one).
  out.str("email_verified_at", format_rfc3339(user.email_verified_at.value_or(0)));
  return json_response(200, out.finish());
}

}  // namespace authd::http::handlers
