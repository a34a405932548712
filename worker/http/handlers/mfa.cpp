// The second factor's endpoints (API.md "Second factor"):
//   POST   /auth/mfa/totp/setup     (bearer) {"password"}  → 200 {secret, otpauth_uri, qr_svg}
//   POST   /auth/mfa/totp/confirm   (bearer) {"code"}      → 200 {recovery_codes}
//   POST   /auth/mfa/verify         {"mfa_token", "code" | "recovery_code" | "passkey"} → 200 login
//   body POST   /auth/mfa/recovery-codes (bearer) {"password"}  → 200 {recovery_codes} DELETE
//   /auth/mfa/totp           (bearer) {"password", "code"} → 204
#include <variant>

#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"
#include "http/passkey_credential.h"
#include "http/qr_svg.h"

namespace authd::http::handlers {
namespace {

Response recovery_codes_response(const std::vector<std::string>& codes) {
  JsonOut out;
  out.begin_array("recovery_codes");
  for (const auto& c : codes)
    out.array_str(c);
  out.end_array();
  return json_response(200, out.finish());
}

}  // namespace

Response mfa_setup(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"password"}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);

  auto outcome =
      deps.auth.mfa_setup(std::get<Authenticated>(who),
                          std::get<JsonBody>(parsed).string("password"), client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  const TotpEnrolment& e = outcome.value();
  JsonOut out;
  out.str("secret", e.secret_base32)
      .str("otpauth_uri", e.otpauth_uri)
      .str("qr_svg", qr_svg(e.otpauth_uri));
  return json_response(200, out.finish());
}

Response mfa_confirm(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"code"}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);

  auto outcome = deps.auth.mfa_confirm(std::get<Authenticated>(who),
                                       std::get<JsonBody>(parsed).string("code"), client_info(req));
  if (!outcome) {
    Problem p = problem_for(outcome.error());
    // A wrong code while enrolling is a content error, not a credential:
    // API.md answers it 422.
    if (p.code == "invalid_mfa_code") p.status = 422;
    return render_problem(p, req);
  }
  return recovery_codes_response(outcome.value());
}

Response mfa_verify(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"mfa_token"},
                                      {"code", FieldKind::string, false},
                                      {"recovery_code", FieldKind::string, false},
                                      {"passkey", FieldKind::object, false}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);
  // Exactly one of the three: none is a missing field (`code`), several an
  // invalid one (the second of them, in that order).
  std::vector<std::string_view> given;
  for (std::string_view name : {"code", "recovery_code", "passkey"}) {
    if (body.has(name)) given.push_back(name);
  }
  if (given.empty()) return render_problem(missing_field("code"), req);
  if (given.size() > 1) return render_problem(invalid_field(given[1]), req);

  const ClientInfo client = client_info(req);
  std::optional<Outcome<TokenGrant>> outcome;
  if (const rapidjson::Value* passkey = body.object("passkey")) {
    auto assertion = read_assertion_credential(*passkey, "passkey");
    if (auto* problem = std::get_if<Problem>(&assertion)) return render_problem(*problem, req);
    outcome = deps.auth.mfa_verify_passkey(body.string("mfa_token"),
                                           std::get<webauthn::Assertion>(assertion), client);
  } else {
    std::optional<std::string_view> code, recovery;
    if (body.has("code")) code = body.string("code");
    if (body.has("recovery_code")) recovery = body.string("recovery_code");
    outcome = deps.auth.mfa_verify(body.string("mfa_token"), code, recovery, client);
  }
  if (!*outcome) return render_problem(problem_for(outcome->error()), req);
  ctx.user_id = outcome->value().user.id.to_string();
  return token_grant_response(outcome->value());
}

Response mfa_recovery_codes(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"password"}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);

  auto outcome = deps.auth.mfa_new_recovery_codes(std::get<Authenticated>(who),
                                                  std::get<JsonBody>(parsed).string("password"),
                                                  client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  return recovery_codes_response(outcome.value());
}

Response mfa_disable(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto parsed = JsonBody::parse(req, {{"password"}, {"code"}});
  if (auto* problem = std::get_if<Problem>(&parsed)) return render_problem(*problem, req);
  const auto& body = std::get<JsonBody>(parsed);
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) return std::move(*denied);

  auto outcome = deps.auth.mfa_disable(std::get<Authenticated>(who), body.string("password"),
                                       body.string("code"), client_info(req));
  if (!outcome) return render_problem(problem_for(outcome.error()), req);
  Response r;
  r.status = 204;
  return r;
}

}  // namespace authd::http::handlers
