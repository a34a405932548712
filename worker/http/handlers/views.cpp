#include "http/handlers/views.h"

#include <algorithm>

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

namespace {

void write_time_or_null(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view key,
                        std::optional<UnixSeconds> t) {
  if (t) {
    JsonOut::write_member(w, key, format_rfc3339(*t));
  } else {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.Null();
  }
}

}  // namespace

void write_session(rapidjson::Writer<rapidjson::StringBuffer>& w, const Session& s,
                   UnixSeconds idle_ttl, std::optional<bool> current) {
  JsonOut::write_member(w, "id", s.id.to_string());
  JsonOut::write_member(w, "created_at", format_rfc3339(s.created_at));
  JsonOut::write_member(w, "last_used_at", format_rfc3339(s.last_used_at));
  // When it ends if unused: the idle limit or the absolute one.
  JsonOut::write_member(w, "expires_at",
                        format_rfc3339(std::min(s.expires_at, s.last_used_at + idle_ttl)));
  if (current) {
    w.Key("current");
    w.Bool(*current);
  }
  JsonOut::write_member(w, "user_agent", s.user_agent);
  JsonOut::write_member(w, "ip", s.ip);
}

void write_account(rapidjson::Writer<rapidjson::StringBuffer>& w, const AccountSummary& account) {
  const User& u = account.user;
  JsonOut::write_member(w, "id", u.id.to_string());
  JsonOut::write_member(w, "email", u.email);
  JsonOut::write_member(w, "created_at", format_rfc3339(u.created_at));
  write_time_or_null(w, "email_verified_at", u.email_verified_at);
  write_time_or_null(w, "disabled_at", u.disabled_at);
  w.Key("mfa_enabled");
  w.Bool(u.mfa_enabled);
  w.Key("passkeys");
  w.Uint(account.passkeys);
  write_time_or_null(w, "last_login_at", u.last_login_at);
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
