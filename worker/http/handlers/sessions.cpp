// GET /auth/sessions (bearer) → the user's live sessions
// DELETE /auth/sessions/{id} (bearer) → 204, or 404 for what is not yours
#include <variant>

#include "http/handlers/handlers.h"
#include "http/handlers/views.h"
#include "http/problem.h"
#include "util/time_format.h"

namespace authd::http::handlers {

Response list_sessions(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);
  const auto& auth = std::get<Authenticated>(who);

  auto outcome = deps.auth.list_sessions(auth);
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  const SessionList& list = outcome.value();
  const UnixSeconds idle = deps.auth.policy().refresh_idle_ttl_s;
  JsonOut out;
  out.begin_array("sessions");
  auto& w = out.raw();
  for (const Session& s : list.sessions) {
    w.StartObject();
    write_session(w, s, idle, s.id == list.current);
    w.EndObject();
  }
  out.end_array();
  return json_response(200, out.finish());
}

Response end_session(HandlerDeps& deps, const Request& req, RequestContext& ctx,
                     std::string_view session_id) {
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);

  auto outcome = deps.auth.end_session(std::get<Authenticated>(who), session_id, client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  Response r;
  r.status = 204;
  return r;
}

}  // namespace authd::http::handlers
