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
  r.add("DELETE", "/auth/me", bind(handlers::close_account));
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
  auto with_id =
      [&deps](Response (*fn)(HandlerDeps&, const Request&, RequestContext&, std::string_view)) {
        return [&deps, fn](const Request& req, RequestContext& ctx, const RouteParams& params) {
          return fn(deps, req, ctx, params.param);
        };
      };
  r.add("GET", "/admin/users", bind(handlers::admin_list_users));
  r.add("POST", "/admin/users", bind(handlers::admin_invite_user));
  r.add("GET", "/admin/users/{id}", with_id(handlers::admin_get_user));
  r.add("DELETE", "/admin/users/{id}", with_id(handlers::admin_delete_user));
  r.add("POST", "/admin/users/{id}/disable", with_id(handlers::admin_disable_user));
  r.add("POST", "/admin/users/{id}/enable", with_id(handlers::admin_enable_user));
  r.add("DELETE", "/admin/users/{id}/sessions", with_id(handlers::admin_end_sessions));
  r.add("GET", "/health", bind(handlers::health));
  r.add("GET", "/health/ready", bind(handlers::health_ready));
  r.add("GET", "/metrics", bind(handlers::metrics));
  return r;
}

}  // namespace authd::http
