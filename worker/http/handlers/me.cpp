// GET /auth/me (bearer) → 200 {id, email, created_at, password_changed_at, …}
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
  // The session and its user, read together (one statement).
  const User& user = outcome.value();
  ctx.user_id = user.id.to_string();
  JsonOut out;
  write_user(out, user);
  out.str("password_changed_at", format_rfc3339(user.password_changed_at))
      .boolean("mfa_enabled", user.mfa_enabled)
      .num("passkeys", deps.auth.passkey_count(user.id));
  return json_response(200, out.finish());
}

}  // namespace authd::http::handlers
