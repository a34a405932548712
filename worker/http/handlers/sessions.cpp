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
    JsonOut::write_member(w, "id", s.id.to_string());
    JsonOut::write_member(w, "created_at", format_rfc3339(s.created_at));
    JsonOut::write_member(w, "last_used_at", format_rfc3339(s.last_used_at));
    // When it ends if unused: the idle limit or the absolute one.
    JsonOut::write_member(w, "expires_at",
                          format_rfc3339(std::min(s.expires_at, s.last_used_at + idle)));
    w.Key("current");
    w.Bool(s.id == list.current);
    JsonOut::write_member(w, "user_agent", s.user_agent);
    JsonOut::write_member(w, "ip", s.ip);
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
