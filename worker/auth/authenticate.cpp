// Use case: accept a bearer token only while its session is live.
#include "auth/auth_service.h"

namespace authd {
namespace {

// A token whose signature and claims verified, with its ids parsed.
struct VerifiedToken {
  AccessClaims claims;
  Uuid session_id;
  Uuid user_id;
};

std::optional<VerifiedToken> verified_token(TokenSigner& tokens, std::string_view bearer_token,
                                            UnixSeconds now) {
  auto claims = tokens.verify(bearer_token, now);
  if (!claims) return std::nullopt;
  auto sid = Uuid::parse(claims->sid);
  auto sub = Uuid::parse(claims->sub);
  if (!sid || !sub) return std::nullopt;
  return VerifiedToken{std::move(*claims), *sid, *sub};
}

}  // namespace

Outcome<Authenticated> AuthService::authenticate(std::string_view bearer_token) {
  const UnixSeconds now = deps_.clock.now();
  auto token = verified_token(deps_.tokens, bearer_token, now);
  if (!token) return fail(AuthErrc::invalid_token, "The access token is invalid or expired.");
  auto session = deps_.sessions.find(token->session_id);
  if (!session || session->user_id != token->user_id || !session_is_live(*session, now)) {
    return fail(AuthErrc::invalid_token, "The session of this token has ended.");
  }
  return Authenticated{std::move(token->claims), std::move(*session)};
}

// As authenticate(), with the user read in the same step as the session
// (one round trip to the database where the store joins them).
Outcome<AuthService::CurrentUser> AuthService::current_user(std::string_view bearer_token) {
  const UnixSeconds now = deps_.clock.now();
  auto token = verified_token(deps_.tokens, bearer_token, now);
  if (!token) return fail(AuthErrc::invalid_token, "The access token is invalid or expired.");
  auto found = deps_.sessions.find_with_user(token->session_id, deps_.users);
  if (!found || found->session.user_id != token->user_id || !session_is_live(found->session, now) ||
      found->user.disabled_at) {
    return fail(AuthErrc::invalid_token, "The session of this token has ended.");
  }
  const unsigned passkeys =
      found->passkeys ? *found->passkeys : deps_.passkeys.count(found->user.id);
  return CurrentUser{std::move(found->user), passkeys};
}

}  // namespace authd
