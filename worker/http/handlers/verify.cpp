// GET /auth/verify (bearer) → 204 with X-Auth-User-Id / X-Auth-Email /
// X-Auth-Email-Verified / X-Auth-AMR for nginx `auth_request`; 401
// otherwise. No body either way: nginx discards it.
//
// `?require_amr=a,b` (API.md) admits only a token whose `amr` holds at
// least one of the listed values; any other valid token answers 403, which
// auth_request turns into a 403. The query is parsed as a query (split on
// '&', percent-decoded, the value split on ','), so neither another
// parameter in front nor the list form slips past it; a require_amr given
// twice, without a value, with an empty entry or a broken escape is refused
// (403): a location that asked for a factor never fails open.
#include <algorithm>
#include <variant>

#include "http/handlers/handlers.h"
#include "http/handlers/views.h"
#include "http/query.h"

namespace authd::http::handlers {
namespace {

enum class AmrVerdict { admitted, refused };

AmrVerdict judge_required_amr(std::string_view query, const std::vector<std::string>& amr) {
  const ParsedQuery parsed = parse_query(query);
  if (parsed.malformed) return AmrVerdict::refused;  // whatever it was, it may have been this
  const QueryParam* required = nullptr;
  for (const auto& p : parsed.params) {
    if (p.name != "require_amr") continue;
    if (required != nullptr) return AmrVerdict::refused;  // repeated: which one counts?
    required = &p;
  }
  if (required == nullptr) return AmrVerdict::admitted;
  if (!required->has_value || required->value.empty()) return AmrVerdict::refused;
  std::string_view list = required->value;
  bool any = false;
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view wanted = list.substr(0, comma);
    if (wanted.empty()) return AmrVerdict::refused;  // "otp,,hwk", "otp,"
    if (std::find(amr.begin(), amr.end(), wanted) != amr.end()) any = true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return any ? AmrVerdict::admitted : AmrVerdict::refused;
}

}  // namespace

Response verify(HandlerDeps& deps, const Request& req, RequestContext& ctx) {
  auto who = require_bearer(deps.auth, req, ctx);
  if (auto* denied = std::get_if<Response>(&who)) {
    Response r = std::move(*denied);
    r.body.clear();
    std::erase_if(r.headers, [](const auto& h) { return h.first == "Content-Type"; });
    return r;
  }
  const auto& claims = std::get<Authenticated>(who).claims;
  if (judge_required_amr(req.query, claims.amr) == AmrVerdict::refused) {
    Response r;
    r.status = 403;
    return r;
  }
  std::string amr;
  for (const auto& m : claims.amr) {
    if (!amr.empty()) amr += ',';
    amr += m;
  }
  Response r;
  r.status = 204;
  r.set_header("X-Auth-User-Id", claims.sub);
  r.set_header("X-Auth-Email", claims.email);
  // A service that authorises by email must demand "true": an unverified
  // address may have been registered by someone else (finding 3).
  r.set_header("X-Auth-Email-Verified", claims.email_verified ? "true" : "false");
  r.set_header("X-Auth-AMR", amr);
  return r;
}

}  // namespace authd::http::handlers
