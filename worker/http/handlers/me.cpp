// GET /auth/me (bearer) → 200 {id, email, created_at, password_changed_at, …}
// DELETE /auth/me (bearer) {"password", "code"?} → 204: the account is closed
#include <variant>

#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"
#include "util/time_format.h"

namespace authd::http::handlers {

Response me(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto bearer = bearer_credential(req);
  if (!bearer.sent) return bearer_unauthorized(req, false, "A bearer token is required.");
  auto outcome = deps.auth.current_user(bearer.token);
  if (!outcome) return bearer_unauthorized(req, true, problem_for(outcome.error()).detail);
  // The session, its user and the passkey count, read together (one
  // statement).
  const User& user = outcome.value().user;
  ctx.user_id = user.id.to_string();
  JsonOut out;
  write_user(out, user);
  out.str("password_changed_at", format_rfc3339(user.password_changed_at))
      .boolean("mfa_enabled", user.mfa_enabled)
      .num("passkeys", outcome.value().passkeys);
  return json_response(200, out.finish());
}

Response close_account(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed =
      JsonBody::parse(req, {{"password"}, {"code", FieldKind::string, /*required=*/false}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);

  std::optional<std::string_view> code;
  if (body.has("code")) code = body.string("code");
  auto outcome = deps.auth.close_account(std::get<Authenticated>(who), body.string("password"),
                                         code, client_info(req));
  if (!outcome) {
    // The token itself failed (its account disabled or closed meanwhile, its
    // session ended by a concurrent closing): a bearer 401, with its
    // WWW-Authenticate, as everywhere a bearer token fails (API.md).
    if (outcome.error().code == AuthErrc::invalid_token) {
      return bearer_unauthorized(req, true, problem_for(outcome.error()).detail);
    }
    return render_problem(problem_for(outcome.error()), req);
  }
  Response r;
  r.status = 204;
  return r;
}

}  // namespace authd::http::handlers
