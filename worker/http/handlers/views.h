#pragma once
// JSON bodies shared by several endpoints.
#include <variant>

#include "auth/auth_service.h"
#include "http/json.h"
#include "http/request.h"
#include "http/response.h"
#include "ports/admin_store.h"

namespace authd::http {

// The `user` object of API.md (id, email, created_at, email_verified_at).
void write_user(JsonOut& out, const User& user);

// One session as GET /auth/sessions lists it (members only: the caller
// opens and closes the object); `current` left out when not given (the
// admin API's listing).
void write_session(rapidjson::Writer<rapidjson::StringBuffer>& w, const Session& s,
                   UnixSeconds idle_ttl, std::optional<bool> current);

// The admin API's user object (members only): id, email, created_at,
// email_verified_at, disabled_at, mfa_enabled, passkeys, last_login_at.
void write_account(rapidjson::Writer<rapidjson::StringBuffer>& w, const AccountSummary& account);

// 200 with the login body (token pair + user), `Cache-Control: no-store`.
Response token_grant_response(const TokenGrant& grant);

Response json_response(int status, std::string body);

// 202 {"status": "accepted"}: resend and forgot, whatever the email.
Response accepted_response();

// A passkey as the API shows it: {id, name, created_at, last_used_at,
// backed_up, transports}; written as one object to the raw writer.
void write_passkey(rapidjson::Writer<rapidjson::StringBuffer>& w, const Passkey& passkey);

// {"publicKey": {...}}: WebAuthn L3's PublicKeyCredentialCreationOptionsJSON
// and PublicKeyCredentialRequestOptionsJSON, for
// PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON.
Response creation_options_response(const PasskeyCreationOptions& options,
                                   const ServicePolicy& policy);
Response request_options_response(const PasskeyRequestOptions& options,
                                  const ServicePolicy& policy);

// Client facts for sessions and audit lines.
ClientInfo client_info(const Request& req);

// The bearer token's live session, or the 401 to answer (with the
// WWW-Authenticate challenge RFC 6750 asks for).
std::variant<Authenticated, Response> require_bearer(AuthService& auth, const Request& req,
                                                     RequestContext& ctx);

}  // namespace authd::http
