// Passkeys (API.md "Passkeys (WebAuthn)"):
//   POST   /auth/passkeys/register/options (bearer) {"password", "code"?} → 200 {publicKey}
//   POST   /auth/passkeys/register         (bearer) {"credential", "name"?} → 201 passkey
//   GET    /auth/passkeys                  (bearer) → 200 {passkeys}
//   DELETE /auth/passkeys/{id}             (bearer) → 204
//   POST   /auth/passkeys/login/options    [{}] → 200 {publicKey}
//   POST   /auth/passkeys/login            {"credential"} → 200 login body
//   POST   /auth/mfa/passkey/options       {"mfa_token"} → 200 {publicKey}
#include <variant>

#include "auth/passkey_name.h"
#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"
#include "http/passkey_credential.h"

namespace authd::http::handlers {
namespace {

Response passkey_response(int status, const Passkey& passkey) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  write_passkey(w, passkey);
  return json_response(status, std::string(buffer.GetString(), buffer.GetSize()));
}

}  // namespace

Response passkey_register_options(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"password"}, {"code", FieldKind::string, false}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);

  std::optional<std::string_view> code;
  if (body.has("code")) code = body.string("code");
  auto outcome = deps.auth.passkey_registration_options(
      std::get<Authenticated>(who), body.string("password"), code, client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  return creation_options_response(outcome.value(), deps.auth.policy());
}

Response passkey_register(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  // The token before the body's shape (API.md's order for this route): a
  // malformed credential says nothing to someone without a session.
  if (!declares_json(req)) return render_problem(unsupported_media_type(), req);
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);
  auto parsed =
      JsonBody::parse(req, {{"credential", FieldKind::object}, {"name", FieldKind::string, false}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);
  auto credential = read_registration_credential(*body.object("credential"), "credential");
  if (auto* problem = std::get_if<Problem>(&credential)) return render_problem(*problem, req);
  std::string name(kDefaultPasskeyName);
  if (body.has("name")) {
    auto valid = passkey_name(body.string("name"));
    if (!valid) {
      Problem p = invalid_field("name");
      p.detail = "The name must be 1 to 64 characters without control characters.";
      return render_problem(p, req);
    }
    name = std::move(*valid);
  }

  const auto& c = std::get<RegistrationCredential>(credential);
  auto outcome = deps.auth.register_passkey(std::get<Authenticated>(who), c.response, c.transports,
                                            name, client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  return passkey_response(201, outcome.value());
}

Response list_passkeys(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);
  auto outcome = deps.auth.list_passkeys(std::get<Authenticated>(who));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  JsonOut out;
  out.begin_array("passkeys");
  for (const Passkey& p : outcome.value())
    write_passkey(out.raw(), p);
  out.end_array();
  return json_response(200, out.finish());
}

Response remove_passkey(HandlerDeps& deps, const Request& req, RequestContext& ctx,
                        std::string_view passkey_id) {
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);
  auto outcome =
      deps.auth.remove_passkey(std::get<Authenticated>(who), passkey_id, client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  Response r;
  r.status = 204;
  return r;
}

Response passkey_login_options(HandlerDeps& deps, const Request& req, RequestContext&) {
  // A body is optional (API.md: `{}`, or none at all); one that is sent is
  // judged like every body.
  if (!req.body.empty() || req.content_type) {
    auto parsed = JsonBody::parse(req, {});
    if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  }
  return request_options_response(deps.auth.passkey_login_options(), deps.auth.policy());
}

Response passkey_login(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"credential", FieldKind::object}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  auto assertion =
      read_assertion_credential(*std::get<JsonBody>(parsed).object("credential"), "credential");
  if (auto* problem = std::get_if<Problem>(&assertion)) return render_problem(*problem, req);
  auto outcome =
      deps.auth.passkey_login(std::get<webauthn::Assertion>(assertion), client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  ctx.user_id = outcome.value().user.id.to_string();
  return token_grant_response(outcome.value());
}

Response mfa_passkey_options(HandlerDeps& deps, const Request& req, RequestContext&) {
  auto parsed = JsonBody::parse(req, {{"mfa_token"}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  auto outcome = deps.auth.mfa_passkey_options(std::get<JsonBody>(parsed).string("mfa_token"),
                                               client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  return request_options_response(outcome.value(), deps.auth.policy());
}

}  // namespace authd::http::handlers
