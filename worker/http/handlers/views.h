#pragma once
// JSON bodies shared by several endpoints.
#include "auth/auth_service.h"
#include "http/json.h"
#include "http/request.h"
#include "http/response.h"

namespace authd::http {

// The `user` object of API.md (id, email, created_at, email_verified_at).
void write_user(JsonOut& out, const User& user);

// 200 with the login body (token pair + user), `Cache-Control: no-store`.
Response token_grant_response(const TokenGrant& grant);

Response json_response(int status, std::string body);

// Client facts for sessions and audit lines.
ClientInfo client_info(const Request& req);

}  // namespace authd::http
