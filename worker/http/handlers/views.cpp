#include "http/handlers/views.h"

#include "http/body.h"
#include "http/problem.h"
#include "util/time_format.h"

namespace authd::http {

void write_user(JsonOut& out, const User& user) {
  out.str("id", user.id.to_string())
      .str("email", user.email)
      .str("created_at", format_rfc3339(user.created_at));
  if (user.email_verified_at) {
    out.str("email_verified_at", format_rfc3339(*user.email_verified_at));
  } else {
    out.null("email_verified_at");
  }
}

Response json_response(int status, std::string body) {
  Response r;
  r.status = status;
  r.set_header("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response accepted_response() {
  JsonOut out;
  out.str("status", "accepted");
  return json_response(202, out.finish());
}

Response token_grant_response(const TokenGrant& grant) {
  JsonOut out;
  out.str("access_token", grant.access_token)
      .str("token_type", "Bearer")
      .num("expires_in", grant.expires_in)
      .str("refresh_token", grant.refresh_token)
      .num("refresh_expires_in", grant.refresh_expires_in);
  out.begin_object("user");
  write_user(out, grant.user);
  out.end_object();
  return json_response(200, out.finish());
}

ClientInfo client_info(const Request& req) {
  ClientInfo c;
  c.ip = req.remote_addr;
  // Stored with the session and shown back to its owner: bounded.
  c.user_agent = req.user_agent.substr(0, 512);
  return c;
}

std::variant<Authenticated, Response> require_bearer(AuthService& auth, const Request& req,
                                                     RequestContext& ctx) {
  auto bearer = bearer_credential(req);
  if (!bearer.sent) return bearer_unauthorized(req, false, "A bearer token is required.");
  auto outcome = auth.authenticate(bearer.token);
  if (!outcome) return bearer_unauthorized(req, true, problem_for(outcome.error()).detail);
  ctx.user_id = outcome.value().session.user_id.to_string();
  return std::move(outcome.value());
}

}  // namespace authd::http
