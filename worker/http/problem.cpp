#include "http/problem.h"

#include "http/json.h"

namespace authd::http {
namespace {

Problem make(int status, std::string code, std::string title, std::string detail) {
  Problem p;
  p.status = status;
  p.code = std::move(code);
  p.title = std::move(title);
  p.detail = std::move(detail);
  return p;
}

}  // namespace

Response render_problem(const Problem& problem, const Request& request) {
  JsonOut out;
  out.str("type", "about:blank")
      .str("title", problem.title)
      .num("status", problem.status)
      .str("code", problem.code)
      .str("detail", problem.detail)
      .str("request_id", request.request_id);
  if (!problem.field.empty()) out.str("field", problem.field);
  if (problem.retry_after_s > 0) out.num("retry_after", problem.retry_after_s);
  if (!problem.mfa_token.empty()) out.str("mfa_token", problem.mfa_token);
  if (!problem.methods.empty()) {
    out.begin_array("methods");
    for (const auto& m : problem.methods)
      out.array_str(m);
    out.end_array();
  }
  Response r;
  r.status = problem.status;
  r.set_header("Content-Type", "application/problem+json");
  if (problem.retry_after_s > 0) r.set_header("Retry-After", std::to_string(problem.retry_after_s));
  r.body = out.finish();
  return r;
}

Problem problem_for(const AuthError& e) {
  auto with_detail = [&](int status, const char* code, const char* title, const char* fallback) {
    return make(status, code, title, e.detail.empty() ? fallback : e.detail);
  };
  Problem p;
  switch (e.code) {
    case AuthErrc::invalid_credentials:
      p = with_detail(401, "invalid_credentials", "Invalid credentials",
                      "The email or password is wrong.");
      break;
    case AuthErrc::invalid_token:
      p = with_detail(401, "invalid_token", "Invalid token", "The token is invalid or expired.");
      break;
    case AuthErrc::invalid_mfa_code:
      p = with_detail(401, "invalid_mfa_code", "Invalid code", "The code is wrong.");
      break;
    case AuthErrc::account_disabled:
      p = with_detail(403, "account_disabled", "Account disabled", "This account is disabled.");
      break;
    case AuthErrc::insufficient_scope:
      p = with_detail(403, "insufficient_scope", "Insufficient scope",
                      "This key does not have the scope this route needs.");
      break;
    case AuthErrc::mfa_required:
      p = with_detail(403, "mfa_required", "Second factor required",
                      "Complete the login with a second factor.");
      p.mfa_token = e.mfa_token;
      p.methods = e.methods;
      break;
    case AuthErrc::reauthentication_required:
      p = with_detail(403, "reauthentication_required", "Recent login required",
                      "Log in again to do this.");
      break;
    case AuthErrc::email_not_verified:
      p = with_detail(403, "email_not_verified", "Email not verified",
                      "Verify your email address first.");
      break;
    case AuthErrc::not_found:
      p = with_detail(404, "not_found", "Not found", "There is nothing here.");
      break;
    case AuthErrc::unknown_email:
      p = with_detail(404, "unknown_email", "Unknown email", "No account has this email address.");
      break;
    case AuthErrc::email_taken:
      p = with_detail(409, "email_taken", "Email taken", "An account with this email exists.");
      break;
    case AuthErrc::mfa_already_enabled:
      p = with_detail(409, "mfa_already_enabled", "Second factor already on",
                      "The second factor is already on.");
      break;
    case AuthErrc::mfa_not_enabled:
      p = with_detail(409, "mfa_not_enabled", "Second factor not on",
                      "The second factor is not on.");
      break;
    case AuthErrc::passkey_exists:
      p = with_detail(409, "passkey_exists", "Passkey exists",
                      "This passkey is registered already.");
      break;
    case AuthErrc::passkey_limit:
      p = with_detail(409, "passkey_limit", "Too many passkeys",
                      "This account has as many passkeys as it may have.");
      break;
    case AuthErrc::invalid_passkey:
      p = with_detail(422, "invalid_passkey", "Invalid passkey",
                      "The passkey failed WebAuthn verification.");
      break;
    case AuthErrc::invalid_email:
      p = with_detail(422, "invalid_email", "Invalid email", "This is not a valid email address.");
      break;
    case AuthErrc::weak_password:
      p = with_detail(422, "weak_password", "Weak password", "The password is too weak.");
      break;
    case AuthErrc::password_unchanged:
      p = with_detail(422, "password_unchanged", "Password unchanged",
                      "The new password is the same as the current one.");
      break;
    case AuthErrc::too_many_attempts:
      p = with_detail(429, "too_many_attempts", "Too many attempts", "Try again later.");
      p.retry_after_s = e.retry_after_s < 1 ? 1 : e.retry_after_s;
      break;
  }
  return p;
}

Problem invalid_json() {
  return make(400, "invalid_json", "Invalid JSON",
              "The body must be one JSON object in valid UTF-8, with no member named twice.");
}
Problem missing_field(std::string_view field) {
  Problem p = make(400, "missing_field", "Missing field",
                   "The member \"" + std::string(field) + "\" is required.");
  p.field = field;
  return p;
}
Problem invalid_field(std::string_view field) {
  Problem p = make(400, "invalid_field", "Invalid field",
                   "The member \"" + std::string(field) + "\" has the wrong type.");
  p.field = field;
  return p;
}
Problem unsupported_media_type() {
  return make(415, "unsupported_media_type", "Unsupported media type",
              "Send the body as Content-Type: application/json.");
}
Problem payload_too_large() {
  return make(413, "payload_too_large", "Payload too large", "The body is larger than 16 KiB.");
}
Problem not_found() {
  return make(404, "not_found", "Not found", "There is nothing here.");
}
Problem unavailable() {
  Problem p = make(503, "unavailable", "Service unavailable",
                   "The service is temporarily unavailable. Nothing was changed; try again.");
  p.retry_after_s = 1;
  return p;
}
Problem outcome_unknown() {
  Problem p = make(503, "unavailable", "Service unavailable",
                   "The database stopped answering while the change was being saved: it may or "
                   "may not have been applied. Check before repeating it.");
  p.retry_after_s = 1;
  return p;
}
Problem internal_error() {
  return make(500, "internal", "Internal error", "Something went wrong on our side.");
}

Response bearer_unauthorized(const Request& request, bool bearer_sent, std::string_view detail) {
  Problem p = make(401, "invalid_token", "Invalid token", std::string(detail));
  Response r = render_problem(p, request);
  r.set_header("WWW-Authenticate", bearer_sent ? "Bearer realm=\"auth\", error=\"invalid_token\""
                                               : "Bearer realm=\"auth\"");
  return r;
}

}  // namespace authd::http
