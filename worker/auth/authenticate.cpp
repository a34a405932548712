// Use case: accept a bearer token only while its session is live.
#include "auth/auth_service.h"

namespace authd {

Outcome<Authenticated> AuthService::authenticate(std::string_view bearer_token) {
  const UnixSeconds now = deps_.clock.now();
  auto claims = deps_.tokens.verify(bearer_token, now);
  if (!claims) return fail(AuthErrc::invalid_token, "The access token is invalid or expired.");
  auto sid = Uuid::parse(claims->sid);
  auto sub = Uuid::parse(claims->sub);
  if (!sid || !sub) return fail(AuthErrc::invalid_token, "The access token is invalid or expired.");
  auto session = deps_.sessions.find(*sid);
  if (!session || session->user_id != *sub || !session_is_live(*session, now)) {
    return fail(AuthErrc::invalid_token, "The session of this token has ended.");
  }
  return Authenticated{std::move(*claims), std::move(*session)};
}

Outcome<User> AuthService::current_user(std::string_view bearer_token) {
  auto auth = authenticate(bearer_token);
  if (!auth) return auth.error();
  auto user = deps_.users.find_by_id(auth.value().session.user_id);
  if (!user || user->disabled_at) {
    return fail(AuthErrc::invalid_token, "The session of this token has ended.");
  }
  return std::move(*user);
}

}  // namespace authd
