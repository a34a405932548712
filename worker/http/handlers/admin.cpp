// The admin API (API.md "Admin API"), for a product's back office:
//   GET    /admin/users?email=&limit=&cursor=   (users:read)  → 200 {users, next_cursor}
//   POST   /admin/users {"email"}               (users:write) → 201 user (an invitation)
//   GET    /admin/users/{id}                    (users:read)  → 200 user + live sessions
//   DELETE /admin/users/{id}                    (users:write) → 204 (closed, as DELETE /auth/me)
//   POST   /admin/users/{id}/disable|enable     (users:write) → 200 user
//   DELETE /admin/users/{id}/sessions           (users:write) → 204
// `Authorization: Bearer <admin key>`. Judged in API.md's order: the
// client address (ADMIN_ALLOW: 404, as nginx answers first), route, size,
// media type, body or query shape (400), the key (401), its scope (403),
// the account id (404), then content (422, then 409). Every request is one
// audit line naming the key (never the key), the action and the account.
#include <charconv>
#include <variant>

#include "http/body.h"
#include "http/handlers/handlers.h"
#include "http/handlers/views.h"
#include "http/query.h"
#include "log/log.h"
#include "ports/store_errors.h"

namespace authd::http::handlers {
namespace {

// What the request's audit line says, filled in as it is judged.
struct AdminTrail {
  std::string_view action;
  std::string key_name;
  std::string user_id;
  std::string outcome;  // empty: from the status (ok, or the problem's code)
  std::int64_t email_filter_length = -1;
};

Response refuse(AdminTrail& trail, const Problem& p, const Request& req) {
  trail.outcome = p.code;
  return render_problem(p, req);
}

// Every admin request is an audit line (API.md): the key's name, never the
// key; the account; the length of an email filter, never the filter.
void audit(const Request& req, std::string_view action, const AdminTrail& trail, int status) {
  log::audit("admin_request", {{"action", action},
                               log::Field::optional("admin_key", trail.key_name),
                               log::Field::optional("user_id", trail.user_id),
                               {"status", status},
                               {"outcome", trail.outcome},
                               trail.email_filter_length >= 0
                                   ? log::Field("email_filter_length", trail.email_filter_length)
                                   : log::Field("email_filter_length", nullptr),
                               {"ip", req.remote_addr}});
}

// The whole of one admin request: the address, then `judge`, then the
// audit line, whatever the outcome.
template <class Judge>
Response admin_request(HandlerDeps& deps, const Request& req, std::string_view action,
                       Judge&& judge) {
  AdminTrail trail;
  trail.action = action;
  Response r;
  if (deps.admin.service == nullptr || !deps.admin.allow.contains(req.remote_addr)) {
    r = refuse(trail, not_found(), req);
    trail.outcome = "address_not_allowed";
  } else {
    try {
      r = judge(*deps.admin.service, trail);
    } catch (const StoreUnavailable&) {
      // The database failed under it (HttpApp answers 503, a lost commit
      // included): still an audit line, with what was known of it.
      trail.outcome = "database_unavailable";
      audit(req, action, trail, 503);
      throw;
    } catch (...) {
      trail.outcome = "error";
      audit(req, action, trail, 500);
      throw;
    }
  }
  if (trail.outcome.empty()) trail.outcome = r.status < 400 ? "ok" : "refused";
  audit(req, action, trail, r.status);
  return r;
}

// The key, then its scope. Nothing but its name ever leaves here.
std::optional<AdminCaller> authorize(AdminService& admin, const Request& req, AdminScope scope,
                                     AdminTrail& trail, Response* denied) {
  const BearerCredential bearer = bearer_credential(req);
  if (!bearer.sent) {
    trail.outcome = "invalid_token";
    *denied = bearer_unauthorized(req, false, "An admin key is required.");
    return std::nullopt;
  }
  auto caller = admin.authenticate(bearer.token, scope, &trail.key_name);
  if (!caller) {
    const Problem p = problem_for(caller.error());
    trail.outcome = p.code;
    *denied = p.code == "invalid_token" ? bearer_unauthorized(req, true, p.detail)
                                        : render_problem(p, req);
    return std::nullopt;
  }
  return std::move(caller.value());
}

Response account_response(int status, const AccountSummary& account) {
  JsonOut out;
  write_account(out.raw(), account);
  return json_response(status, out.finish());
}

Response no_content() {
  Response r;
  r.status = 204;
  return r;
}

// A POST whose body is optional (disable, enable): none at all is fine;
// anything else is judged like every body (it has no members to read).
std::optional<Problem> optional_body_problem(const Request& req) {
  if (req.body.empty() && !req.content_type) return std::nullopt;
  auto parsed = JsonBody::parse(req, {});
  if (auto* problem = std::get_if<Problem>(&parsed)) return *problem;
  return std::nullopt;
}

std::optional<unsigned> parse_limit(std::string_view text) {
  unsigned value = 0;
  if (text.empty() || text.size() > 3) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < 1 || value > AdminService::kMaxLimit) return std::nullopt;
  return value;
}

}  // namespace

Response admin_list_users(HandlerDeps& deps, const Request& req, RequestContext&) {
  return admin_request(deps, req, "list_users", [&](AdminService& admin, AdminTrail& trail) {
    // The query's shape first (as a body's would be): readable, no
    // parameter twice, a limit in range, a cursor of ours for this search.
    const ParsedQuery query = parse_query(req.query);
    if (query.malformed) return refuse(trail, invalid_field(*query.malformed), req);
    if (auto twice = query.repeated({"email", "limit", "cursor"})) {
      return refuse(trail, invalid_field(*twice), req);
    }
    unsigned limit = AdminService::kDefaultLimit;
    if (auto text = query.get("limit")) {
      auto parsed = parse_limit(*text);
      if (!parsed) return refuse(trail, invalid_field("limit"), req);
      limit = *parsed;
    }
    const std::string_view email = query.get("email").value_or("");
    AdminService::Search search = AdminService::search_for(email);
    if (auto cursor = query.get("cursor")) {
      if (!admin.read_cursor(*cursor, search)) return refuse(trail, invalid_field("cursor"), req);
    }
    trail.email_filter_length = static_cast<std::int64_t>(email.size());

    Response denied;
    auto caller = authorize(admin, req, AdminScope::users_read, trail, &denied);
    if (!caller) return denied;
    const AccountPage page = admin.list_accounts(*caller, search, limit, email.size());
    JsonOut out;
    out.begin_array("users");
    auto& w = out.raw();
    for (const AccountSummary& account : page.accounts) {
      w.StartObject();
      write_account(w, account);
      w.EndObject();
    }
    out.end_array();
    if (page.next_cursor) {
      out.str("next_cursor", *page.next_cursor);
    } else {
      out.null("next_cursor");
    }
    return json_response(200, out.finish());
  });
}

Response admin_invite_user(HandlerDeps& deps, const Request& req, RequestContext&) {
  return admin_request(deps, req, "invite_user", [&](AdminService& admin, AdminTrail& trail) {
    auto parsed = JsonBody::parse(req, {{"email"}});
    if (auto* problem = std::get_if<Problem>(&parsed)) return refuse(trail, *problem, req);
    Response denied;
    auto caller = authorize(admin, req, AdminScope::users_write, trail, &denied);
    if (!caller) return denied;
    auto outcome = admin.invite(*caller, std::get<JsonBody>(parsed).string("email"));
    if (!outcome) return refuse(trail, problem_for(outcome.error()), req);
    trail.user_id = outcome.value().user.id.to_string();
    Response r = account_response(201, outcome.value());
    r.set_header("Location", "/admin/users/" + trail.user_id);
    return r;
  });
}

Response admin_get_user(HandlerDeps& deps, const Request& req, RequestContext&,
                        std::string_view id) {
  return admin_request(deps, req, "get_user", [&](AdminService& admin, AdminTrail& trail) {
    Response denied;
    auto caller = authorize(admin, req, AdminScope::users_read, trail, &denied);
    if (!caller) return denied;
    auto outcome = admin.account(*caller, id);
    if (!outcome) return refuse(trail, problem_for(outcome.error()), req);
    const AccountDetail& detail = outcome.value();
    trail.user_id = detail.account.user.id.to_string();
    JsonOut out;
    write_account(out.raw(), detail.account);
    out.begin_array("sessions");
    auto& w = out.raw();
    for (const Session& s : detail.sessions) {
      w.StartObject();
      write_session(w, s, admin.policy().refresh_idle_ttl_s, std::nullopt);
      w.EndObject();
    }
    out.end_array();
    return json_response(200, out.finish());
  });
}

Response admin_delete_user(HandlerDeps& deps, const Request& req, RequestContext&,
                           std::string_view id) {
  return admin_request(deps, req, "delete_user", [&](AdminService& admin, AdminTrail& trail) {
    Response denied;
    auto caller = authorize(admin, req, AdminScope::users_write, trail, &denied);
    if (!caller) return denied;
    auto outcome = admin.close(*caller, id);
    if (!outcome) return refuse(trail, problem_for(outcome.error()), req);
    trail.user_id = std::string(id);
    return no_content();
  });
}

Response admin_disable_user(HandlerDeps& deps, const Request& req, RequestContext&,
                            std::string_view id) {
  return admin_request(deps, req, "disable_user", [&](AdminService& admin, AdminTrail& trail) {
    if (auto problem = optional_body_problem(req)) return refuse(trail, *problem, req);
    Response denied;
    auto caller = authorize(admin, req, AdminScope::users_write, trail, &denied);
    if (!caller) return denied;
    auto outcome = admin.disable(*caller, id);
    if (!outcome) return refuse(trail, problem_for(outcome.error()), req);
    trail.user_id = outcome.value().user.id.to_string();
    return account_response(200, outcome.value());
  });
}

Response admin_enable_user(HandlerDeps& deps, const Request& req, RequestContext&,
                           std::string_view id) {
  return admin_request(deps, req, "enable_user", [&](AdminService& admin, AdminTrail& trail) {
    if (auto problem = optional_body_problem(req)) return refuse(trail, *problem, req);
    Response denied;
    auto caller = authorize(admin, req, AdminScope::users_write, trail, &denied);
    if (!caller) return denied;
    auto outcome = admin.enable(*caller, id);
    if (!outcome) return refuse(trail, problem_for(outcome.error()), req);
    trail.user_id = outcome.value().user.id.to_string();
    return account_response(200, outcome.value());
  });
}

Response admin_end_sessions(HandlerDeps& deps, const Request& req, RequestContext&,
                            std::string_view id) {
  return admin_request(deps, req, "end_sessions", [&](AdminService& admin, AdminTrail& trail) {
    Response denied;
    auto caller = authorize(admin, req, AdminScope::users_write, trail, &denied);
    if (!caller) return denied;
    auto outcome = admin.end_sessions(*caller, id);
    if (!outcome) return refuse(trail, problem_for(outcome.error()), req);
    trail.user_id = std::string(id);
    return no_content();
  });
}

}  // namespace authd::http::handlers
