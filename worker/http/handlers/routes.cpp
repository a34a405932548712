// The routing table: every path the worker answers, and with which method.
#include "http/handlers/handlers.h"

namespace authd::http {

Router make_router(HandlerDeps& deps) {
  Router r;
  auto bind = [&deps](Response (*fn)(HandlerDeps&, const Request&, RequestContext&)) {
    return [&deps, fn](const Request& req, RequestContext& ctx, const RouteParams&) {
      return fn(deps, req, ctx);
    };
  };
  r.add("POST", "/auth/register", bind(handlers::register_user));
  r.add("POST", "/auth/login", bind(handlers::login));
  r.add("POST", "/auth/password", bind(handlers::change_password));
  r.add("GET", "/auth/me", bind(handlers::me));
  r.add("POST", "/auth/refresh", bind(handlers::refresh));
  r.add("POST", "/auth/logout", bind(handlers::logout));
  r.add("GET", "/auth/sessions", bind(handlers::list_sessions));
  r.add("DELETE", "/auth/sessions/{id}",
        [&deps](const Request& req, RequestContext& ctx, const RouteParams& params) {
          return handlers::end_session(deps, req, ctx, params.param);
        });
  r.add("GET", "/auth/verify", bind(handlers::verify));
  r.add("POST", "/auth/email/verify", bind(handlers::verify_email));
  r.add("POST", "/auth/email/resend", bind(handlers::resend_verification));
  r.add("POST", "/auth/password/forgot", bind(handlers::forgot_password));
  r.add("POST", "/auth/password/reset", bind(handlers::reset_password));
  r.add("GET", "/.well-known/jwks.json", bind(handlers::jwks));
  r.add("POST", "/auth/mfa/totp/setup", bind(handlers::mfa_setup));
  r.add("POST", "/auth/mfa/totp/confirm", bind(handlers::mfa_confirm));
  r.add("DELETE", "/auth/mfa/totp", bind(handlers::mfa_disable));
  r.add("POST", "/auth/mfa/verify", bind(handlers::mfa_verify));
  r.add("POST", "/auth/mfa/recovery-codes", bind(handlers::mfa_recovery_codes));
  r.add("POST", "/auth/mfa/passkey/options", bind(handlers::mfa_passkey_options));
  r.add("POST", "/auth/passkeys/register/options", bind(handlers::passkey_register_options));
  r.add("POST", "/auth/passkeys/register", bind(handlers::passkey_register));
  r.add("GET", "/auth/passkeys", bind(handlers::list_passkeys));
  r.add("DELETE", "/auth/passkeys/{id}",
        [&deps](const Request& req, RequestContext& ctx, const RouteParams& params) {
          return handlers::remove_passkey(deps, req, ctx, params.param);
        });
  r.add("POST", "/auth/passkeys/login/options", bind(handlers::passkey_login_options));
  r.add("POST", "/auth/passkeys/login", bind(handlers::passkey_login));
  r.add("GET", "/health", bind(handlers::health));
  r.add("GET", "/health/ready", bind(handlers::health_ready));
  r.add("GET", "/metrics", bind(handlers::metrics));
  return r;
}

}  // namespace authd::http
