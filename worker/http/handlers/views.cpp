#include "http/handlers/views.h"

#include <algorithm>

#include "http/body.h"
#include "http/problem.h"
#include "util/base64url.h"
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

namespace {

void write_transports(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view stored) {
  w.StartArray();
  while (!stored.empty()) {
    const std::size_t comma = stored.find(',');
    const std::string_view t = stored.substr(0, comma);
    if (!t.empty()) w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
    stored = comma == std::string_view::npos ? std::string_view{} : stored.substr(comma + 1);
  }
  w.EndArray();
}

// [{type, id, transports}]: the exclude and allow lists.
void write_descriptors(JsonOut& out, std::string_view key, const std::vector<Passkey>& passkeys) {
  out.begin_array(key);
  auto& w = out.raw();
  for (const Passkey& p : passkeys) {
    w.StartObject();
    JsonOut::write_member(w, "type", "public-key");
    JsonOut::write_member(w, "id", base64url_encode(p.credential_id));
    w.Key("transports");
    write_transports(w, p.transports);
    w.EndObject();
  }
  out.end_array();
}

std::int64_t timeout_ms(const ServicePolicy& policy) {
  return policy.webauthn_challenge_ttl_s * 1000;
}

}  // namespace

void write_passkey(rapidjson::Writer<rapidjson::StringBuffer>& w, const Passkey& p) {
  w.StartObject();
  JsonOut::write_member(w, "id", p.id.to_string());
  JsonOut::write_member(w, "name", p.name);
  JsonOut::write_member(w, "created_at", format_rfc3339(p.created_at));
  w.Key("last_used_at");
  if (p.last_used_at) {
    const std::string t = format_rfc3339(*p.last_used_at);
    w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
  } else {
    w.Null();
  }
  w.Key("backed_up");
  w.Bool(p.backed_up);
  w.Key("transports");
  write_transports(w, p.transports);
  w.EndObject();
}

Response creation_options_response(const PasskeyCreationOptions& options,
                                   const ServicePolicy& policy) {
  JsonOut out;
  out.begin_object("publicKey");
  out.begin_object("rp")
      .str("id", policy.relying_party.id)
      .str("name", policy.relying_party.name)
      .end_object();
  out.begin_object("user")
      .str("id", base64url_encode(options.user_handle))
      .str("name", options.user_name)
      .str("displayName", options.user_name)
      .end_object();
  out.str("challenge", base64url_encode(options.challenge));
  out.begin_array("pubKeyCredParams");
  auto& w = out.raw();
  for (const std::int64_t alg : webauthn::kAcceptedAlgorithms) {
    w.StartObject();
    JsonOut::write_member(w, "type", "public-key");
    w.Key("alg");
    w.Int64(alg);
    w.EndObject();
  }
  out.end_array();
  out.num("timeout", timeout_ms(policy));
  write_descriptors(out, "excludeCredentials", options.exclude);
  out.begin_object("authenticatorSelection")
      .str("residentKey", "required")
      .str("userVerification", "required")
      .end_object();
  out.str("attestation", "none");
  out.end_object();
  return json_response(200, out.finish());
}

Response request_options_response(const PasskeyRequestOptions& options,
                                  const ServicePolicy& policy) {
  JsonOut out;
  out.begin_object("publicKey");
  out.str("challenge", base64url_encode(options.challenge))
      .str("rpId", policy.relying_party.id)
      .num("timeout", timeout_ms(policy))
      .str("userVerification", options.user_verification_required ? "required" : "discouraged");
  write_descriptors(out, "allowCredentials", options.allow);
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
