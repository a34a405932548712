// Use case: refresh with rotation and reuse detection (API.md
// "POST /auth/refresh"). The session row is locked for the whole decision,
// so two refreshes of one token are judged one after the other: the first
// rotates, the second finds its token already spent and, inside the grace
// window, gets the same new token back; outside it, reuse ends the session.
#include <sodium.h>

#include "auth/auth_service.h"
#include "auth/refresh_token.h"
#include "log/log.h"

namespace authd {
namespace {

bool digest_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

enum class RefreshVerdict { rotated, retried, reused, refused };

}  // namespace

Outcome<TokenGrant> AuthService::refresh(std::string_view token, const ClientInfo& client) {
  const auto refused = fail(AuthErrc::invalid_token, "The refresh token is invalid or expired.");
  auto session_id = refresh_token_session(token);
  if (!session_id) return refused;
  const std::string digest = refresh_token_digest(token);
  const UnixSeconds now = deps_.clock.now();

  RefreshVerdict verdict = RefreshVerdict::refused;
  std::optional<Session> session;
  std::string next_token;
  deps_.transactions.in_transaction([&] {
    verdict = RefreshVerdict::refused;
    session = deps_.sessions.find_for_update(*session_id);
    if (!session || !session_is_live(*session, now)) return;

    if (digest_equal(digest, session->refresh_hash)) {
      next_token = new_refresh_token(session->id, deps_.random);
      std::string next_digest = refresh_token_digest(next_token);
      std::string sealed = seal_next_refresh(next_token, token, deps_.random);
      deps_.sessions.rotate_refresh(session->id, digest, next_digest, sealed, now);
      session->prev_refresh_hash = digest;
      session->refresh_hash = next_digest;
      session->next_refresh_sealed = sealed;
      session->rotated_at = now;
      session->last_used_at = now;
      verdict = RefreshVerdict::rotated;
      return;
    }
    const bool is_previous = digest_equal(digest, session->prev_refresh_hash);
    // Times are whole seconds: "within the grace window" is at most `grace`
    // seconds on the clock since the rotation; a grace of 0 turns it off
    // (without the first test, a retry in the same second would still pass).
    if (is_previous && session->rotated_at && policy_.refresh_reuse_grace_s > 0 &&
        now - *session->rotated_at <= policy_.refresh_reuse_grace_s) {
      // A retry of a refresh whose answer was lost: the same new token, as
      // long as that one has not been used itself.
      auto sealed_next = unseal_next_refresh(session->next_refresh_sealed, token);
      if (sealed_next && digest_equal(refresh_token_digest(*sealed_next), session->refresh_hash)) {
        next_token = std::move(*sealed_next);
        verdict = RefreshVerdict::retried;
        return;
      }
    }
    if (is_previous || deps_.sessions.refresh_was_spent(session->id, digest)) {
      deps_.sessions.revoke(session->id, now);
      verdict = RefreshVerdict::reused;
    }
  });

  switch (verdict) {
    case RefreshVerdict::refused:
      log::audit("refresh", {{"outcome", "invalid"}, {"ip", client.ip}});
      return refused;
    case RefreshVerdict::reused:
      metrics().refresh_reuse_detected();
      log::audit("refresh_reuse_detected", {{"outcome", "session_revoked"},
                                            {"user_id", session->user_id.to_string()},
                                            {"session_id", session->id.to_string()},
                                            {"ip", client.ip}});
      return refused;
    case RefreshVerdict::rotated:
    case RefreshVerdict::retried:
      break;
  }
  auto user = deps_.users.find_by_id(session->user_id);
  if (!user || user->disabled_at) return refused;
  log::audit("refresh", {{"outcome", verdict == RefreshVerdict::rotated ? "ok" : "grace_retry"},
                         {"user_id", user->id.to_string()},
                         {"session_id", session->id.to_string()},
                         {"ip", client.ip}});
  return grant_for(*user, *session, std::move(next_token), now);
}

}  // namespace authd
