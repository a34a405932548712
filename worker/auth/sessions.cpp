// Use cases on a user's own sessions: logout, list, end one.
#include "auth/auth_service.h"
#include "log/log.h"

namespace authd {

Outcome<int> AuthService::logout(const Authenticated& who, bool all, const ClientInfo& client) {
  const UnixSeconds now = deps_.clock.now();
  const std::string user_id = who.session.user_id.to_string();
  if (!all) {
    deps_.sessions.revoke(who.session.id, now);
    log::audit("logout", {{"outcome", "ok"},
                          {"user_id", user_id},
                          {"session_id", who.session.id.to_string()},
                          {"ip", client.ip}});
    return 1;
  }
  // Ending other sessions needs a recent login (ASVS 5.0 7.5.2).
  if (!recently_authenticated(who, now)) {
    log::audit("logout",
               {{"outcome", "reauthentication_required"}, {"user_id", user_id}, {"ip", client.ip}});
    return fail(AuthErrc::reauthentication_required,
                "Log in again to end all sessions (the last login is too old).");
  }
  int ended = deps_.sessions.revoke_all_for_user(who.session.user_id, now);
  log::audit("logout", {{"outcome", "ok"},
                        {"scope", "all"},
                        {"user_id", user_id},
                        {"sessions_ended", ended},
                        {"ip", client.ip}});
  return ended;
}

Outcome<SessionList> AuthService::list_sessions(const Authenticated& who) {
  SessionList list;
  list.sessions =
      deps_.sessions.list_live(who.session.user_id, deps_.clock.now(), policy_.refresh_idle_ttl_s);
  list.current = who.session.id;
  return list;
}

Outcome<bool> AuthService::end_session(const Authenticated& who, std::string_view session_id,
                                       const ClientInfo& client) {
  const UnixSeconds now = deps_.clock.now();
  auto id = Uuid::parse(session_id);
  std::optional<Session> target;
  if (id) target = deps_.sessions.find(*id);
  if (!target || target->user_id != who.session.user_id || !session_is_live(*target, now)) {
    return fail(AuthErrc::not_found, "No live session of yours has this id.");
  }
  const bool is_current = target->id == who.session.id;
  if (!is_current && !recently_authenticated(who, now)) {
    return fail(AuthErrc::reauthentication_required,
                "Log in again to end another session (the last login is too old).");
  }
  deps_.sessions.revoke(target->id, now);
  log::audit("session_ended", {{"outcome", "ok"},
                               {"reason", is_current ? "logout" : "ended_by_user"},
                               {"user_id", who.session.user_id.to_string()},
                               {"session_id", target->id.to_string()},
                               {"ip", client.ip}});
  return true;
}

}  // namespace authd
