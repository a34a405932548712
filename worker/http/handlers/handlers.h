#pragma once
// One file per endpoint; each turns a Request into a use-case call and the
// outcome into a Response. No SQL, no FastCGI here.
#include <functional>
#include <string>

#include "auth/admin_service.h"
#include "auth/auth_service.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "ports/health_probe.h"
#include "util/cidr.h"

namespace authd::http {

// GET /metrics: the pool's metrics as text, for the addresses allowed.
struct MetricsEndpoint {
  std::function<std::string()> render;  // empty: no metrics here (404)
  CidrSet allow;                        // METRICS_ALLOW
};

// /admin/…: the admin API, for the addresses allowed. nginx refuses every
// other address first (ADMIN_ALLOW); the worker judges it again, for a
// deployment that reaches it some other way.
struct AdminEndpoint {
  AdminService* service = nullptr;  // none: every admin route answers 404
  CidrSet allow;                    // ADMIN_ALLOW
};

struct HandlerDeps {
  AuthService& auth;
  HealthProbe& health;
  // The JWKS document (empty: symmetric signing, answered 404).
  std::string jwks_json;
  MetricsEndpoint metrics{};
  AdminEndpoint admin{};
};

namespace handlers {
Response register_user(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response login(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response change_password(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response me(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response close_account(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response refresh(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response logout(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response list_sessions(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response end_session(HandlerDeps& deps, const Request& req, RequestContext& ctx,
                     std::string_view session_id);
Response verify(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response verify_email(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response resend_verification(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response forgot_password(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response reset_password(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response jwks(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response mfa_setup(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response mfa_confirm(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response mfa_verify(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response mfa_recovery_codes(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response mfa_disable(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response passkey_register_options(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response passkey_register(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response list_passkeys(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response remove_passkey(HandlerDeps& deps, const Request& req, RequestContext& ctx,
                        std::string_view passkey_id);
Response passkey_login_options(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response passkey_login(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response mfa_passkey_options(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response health(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response health_ready(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response metrics(HandlerDeps& deps, const Request& req, RequestContext& ctx);
// The admin API (http/handlers/admin.cpp); `id` is the path's account id.
Response admin_list_users(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response admin_invite_user(HandlerDeps& deps, const Request& req, RequestContext& ctx);
Response admin_get_user(HandlerDeps& deps, const Request& req, RequestContext& ctx,
                        std::string_view id);
Response admin_delete_user(HandlerDeps& deps, const Request& req, RequestContext& ctx,
                           std::string_view id);
Response admin_disable_user(HandlerDeps& deps, const Request& req, RequestContext& ctx,
                            std::string_view id);
Response admin_enable_user(HandlerDeps& deps, const Request& req, RequestContext& ctx,
                           std::string_view id);
Response admin_end_sessions(HandlerDeps& deps, const Request& req, RequestContext& ctx,
                            std::string_view id);
}  // namespace handlers

// The whole routing table of the worker.
Router make_router(HandlerDeps& deps);

}  // namespace authd::http
