#include "auth/auth_service.h"

#include "auth/ids.h"
#include "auth/refresh_token.h"
#include "log/log.h"
#include "util/base64url.h"

namespace authd {

AuthService::AuthService(ServiceDeps deps, ServicePolicy policy)
    : deps_(deps), policy_(std::move(policy)) {
  // A hash of a random password at the configured cost: unknown emails are
  // verified against it so that both 401s take the same time.
  dummy_hash_ = deps_.hasher.hash(base64url_encode(deps_.random.bytes(24)));
}

bool AuthService::password_matches(const User* user, std::string_view password) {
  // Normalised as when it was set; a password that cannot be normalised (a
  // NUL) can match nothing, but is still verified so the time is the same.
  auto normalised = nfkc_password(password);
  std::string_view candidate = normalised ? std::string_view(*normalised) : password;
  bool ok = deps_.hasher.verify(user ? user->password_hash : dummy_hash_, candidate);
  return ok && user != nullptr && normalised.has_value();
}

bool AuthService::session_is_live(const Session& session, UnixSeconds now) const {
  return !session.revoked_at && now < session.expires_at &&
         now < session.last_used_at + policy_.refresh_idle_ttl_s;
}

bool AuthService::recently_authenticated(const Authenticated& who, UnixSeconds now) const {
  return now - who.session.auth_time <= policy_.reauth_max_age_s;
}

Session AuthService::new_session(const User& user, const ClientInfo& client, UnixSeconds now,
                                 std::string* refresh_token) {
  return new_session_with(user, client, now, "pwd", refresh_token);
}

Session AuthService::new_session_with(const User& user, const ClientInfo& client, UnixSeconds now,
                                      std::string amr, std::string* refresh_token) {
  Session s;
  s.id = new_uuid_v7(deps_.clock, deps_.random);
  s.user_id = user.id;
  s.created_at = now;
  s.last_used_at = now;
  s.auth_time = now;
  s.expires_at = now + policy_.refresh_absolute_ttl_s;
  s.amr = std::move(amr);
  s.user_agent = client.user_agent;
  s.ip = client.ip;
  *refresh_token = new_refresh_token(s.id, deps_.random);
  s.refresh_hash = refresh_token_digest(*refresh_token);
  return s;
}

void AuthService::open_session(const Session& session, UnixSeconds now) {
  deps_.sessions.insert(session);
  int ended = deps_.sessions.revoke_least_recently_used(
      session.user_id, policy_.max_sessions_per_user, now, policy_.refresh_idle_ttl_s);
  if (ended > 0) {
    log::audit("session_ended", {{"outcome", "ok"},
                                 {"reason", "session_cap"},
                                 {"user_id", session.user_id.to_string()},
                                 {"sessions_ended", ended}});
  }
}

TokenGrant AuthService::grant_for(const User& user, const Session& session,
                                  std::string refresh_token, UnixSeconds now) {
  AccessClaims claims;
  claims.sub = user.id.to_string();
  claims.email = user.email;
  claims.email_verified = user.email_verified_at.has_value();
  claims.sid = session.id.to_string();
  claims.jti = new_random_token(deps_.random, 16);
  claims.iat = now;
  claims.nbf = now;
  claims.exp = now + policy_.token_ttl_s;
  claims.auth_time = session.auth_time;
  std::string_view amr = session.amr;
  while (!amr.empty()) {
    auto comma = amr.find(',');
    claims.amr.emplace_back(amr.substr(0, comma));
    amr = comma == std::string_view::npos ? std::string_view{} : amr.substr(comma + 1);
  }
  TokenGrant grant;
  grant.access_token = deps_.tokens.sign(claims);
  grant.expires_in = policy_.token_ttl_s;
  grant.refresh_token = std::move(refresh_token);
  grant.refresh_expires_in = std::min(policy_.refresh_idle_ttl_s, session.expires_at - now);
  grant.user = user;
  grant.session = session;
  return grant;
}

}  // namespace authd
