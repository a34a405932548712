// The routing table: every path the worker answers, and with which method.
#include "http/handlers/handlers.h"

namespace authd::http {

// Lanes (README "Reliability"): the fast lane takes the paths that never
// compute Argon2id and that clients and protected services need while logins
// storm: token checks, the session's own reads and ends, refresh, health,
// keys and metrics. Unauthenticated writes (resend, forgot) and everything
// that may hash stay in the hashing lane.
Router make_router(HandlerDeps& deps) {
  Router r;
  constexpr Lane fast = Lane::fast;
  auto bind = [&deps](Response (*fn)(HandlerDeps&, const Request&, RequestContext&)) {
    return [&deps, fn](const Request& req, RequestContext& ctx, const RouteParams&) {
      return fn(deps, req, ctx);
    };
  };
  auto with_id =
      [&deps](Response (*fn)(HandlerDeps&, const Request&, RequestContext&, std::string_view)) {
        return [&deps, fn](const Request& req, RequestContext& ctx, const RouteParams& params) {
          return fn(deps, req, ctx, params.param);
        };
      };
  r.add("POST", "/auth/register", bind(handlers::register_user));
  r.add("POST", "/auth/login", bind(handlers::login));
  r.add("POST", "/auth/password", bind(handlers::change_password));
  // /auth/me: reading it checks a token (fast lane); closing the account
  // asks the password again (hashing lane). nginx's location routes it by
  // method.
  r.lane_by_method("/auth/me");
  r.add("GET", "/auth/me", bind(handlers::me), fast);
  r.add("DELETE", "/auth/me", bind(handlers::close_account));
  r.add("POST", "/auth/refresh", bind(handlers::refresh), fast);
  r.add("POST", "/auth/logout", bind(handlers::logout), fast);
  r.add("GET", "/auth/sessions", bind(handlers::list_sessions), fast);
  r.add("DELETE", "/auth/sessions/{id}", with_id(handlers::end_session), fast);
  r.add("GET", "/auth/verify", bind(handlers::verify), fast);
  r.add("POST", "/auth/email/verify", bind(handlers::verify_email));
  r.add("POST", "/auth/email/resend", bind(handlers::resend_verification));
  r.add("POST", "/auth/password/forgot", bind(handlers::forgot_password));
  r.add("POST", "/auth/password/reset", bind(handlers::reset_password));
  r.add("GET", "/.well-known/jwks.json", bind(handlers::jwks), fast);
  r.add("POST", "/auth/mfa/totp/setup", bind(handlers::mfa_setup));
  r.add("POST", "/auth/mfa/totp/confirm", bind(handlers::mfa_confirm));
  r.add("DELETE", "/auth/mfa/totp", bind(handlers::mfa_disable));
  r.add("POST", "/auth/mfa/verify", bind(handlers::mfa_verify));
  r.add("POST", "/auth/mfa/recovery-codes", bind(handlers::mfa_recovery_codes));
  r.add("POST", "/auth/mfa/passkey/options", bind(handlers::mfa_passkey_options));
  r.add("POST", "/auth/passkeys/register/options", bind(handlers::passkey_register_options));
  r.add("POST", "/auth/passkeys/register", bind(handlers::passkey_register));
  r.add("GET", "/auth/passkeys", bind(handlers::list_passkeys), fast);
  r.add("DELETE", "/auth/passkeys/{id}", with_id(handlers::remove_passkey), fast);
  r.add("POST", "/auth/passkeys/login/options", bind(handlers::passkey_login_options));
  r.add("POST", "/auth/passkeys/login", bind(handlers::passkey_login));
  r.add("GET", "/health", bind(handlers::health), fast);
  r.add("GET", "/health/ready", bind(handlers::health_ready), fast);
  r.add("GET", "/metrics", bind(handlers::metrics), fast);
  // The admin API (README "Administration"): every route reads or writes
  // accounts for an operator; the hashing lane with everything else.
  r.add("GET", "/admin/users", bind(handlers::admin_list_users));
  r.add("POST", "/admin/users", bind(handlers::admin_invite_user));
  r.add("GET", "/admin/users/{id}", with_id(handlers::admin_get_user));
  r.add("DELETE", "/admin/users/{id}", with_id(handlers::admin_delete_user));
  r.add("POST", "/admin/users/{id}/disable", with_id(handlers::admin_disable_user));
  r.add("POST", "/admin/users/{id}/enable", with_id(handlers::admin_enable_user));
  r.add("DELETE", "/admin/users/{id}/sessions", with_id(handlers::admin_end_sessions));
  return r;
}

}  // namespace authd::http
