#pragma once
// RFC 9457 problem documents, the shape of every error answer (API.md).
#include <string>
#include <string_view>
#include <vector>

#include "auth/outcome.h"
#include "http/request.h"
#include "http/response.h"

namespace authd::http {

struct Problem {
  int status = 500;
  std::string code;
  std::string title;
  std::string detail;
  std::string field;            // validation errors: the offending member
  long long retry_after_s = 0;  // 429/503: also the Retry-After header
  std::string mfa_token;        // 403 mfa_required
  std::vector<std::string> methods;
};

Response render_problem(const Problem& problem, const Request& request);

// The contract's status and title for a use case's refusal.
Problem problem_for(const AuthError& error);

// Shorthands for the HTTP layer's own refusals.
Problem invalid_json();
Problem missing_field(std::string_view field);
Problem invalid_field(std::string_view field);
Problem unsupported_media_type();
Problem payload_too_large();
Problem not_found();
Problem unavailable();
Problem internal_error();

// 401 for a bearer token: `WWW-Authenticate` says `error="invalid_token"`
// only when a Bearer credential was sent (RFC 6750 §3.1).
Response bearer_unauthorized(const Request& request, bool bearer_sent, std::string_view detail);

}  // namespace authd::http
