// POST /auth/password/forgot {"email"} → 202, whatever the email (API.md)
#include <variant>

#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"

namespace authd::http::handlers {

Response forgot_password(HandlerDeps& deps, const Request& req, RequestContext&) {
  auto parsed = JsonBody::parse(req, {{"email"}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);

  deps.auth.request_password_reset(body.string("email"), client_info(req));
  return accepted_response();
}

}  // namespace authd::http::handlers
