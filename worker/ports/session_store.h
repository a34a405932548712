#pragma once
#include <optional>
#include <string_view>
#include <vector>

#include "ports/records.h"
#include "ports/user_store.h"

namespace authd {

// Sessions: one per login. A session is live while not revoked, before
// expires_at, and used (login or refresh) within the idle lifetime.
class SessionStore {
 public:
  virtual ~SessionStore() = default;

  virtual void insert(const Session& session) = 0;
  virtual std::optional<Session> find(const Uuid& id) = 0;
  // The same row, locked until the transaction ends (refresh rotation, so
  // two refreshes of one token are served one after the other).
  virtual std::optional<Session> find_for_update(const Uuid& id) = 0;

  // Live sessions of a user, most recently used first.
  virtual std::vector<Session> list_live(const Uuid& user_id, UnixSeconds now,
                                         UnixSeconds idle_ttl) = 0;

  // Ends one session; false when it was already ended.
  virtual bool revoke(const Uuid& id, UnixSeconds now) = 0;
  // Ends every live session of the user except `keep` (if given). Returns
  // how many were ended.
  virtual int revoke_all_for_user(const Uuid& user_id, UnixSeconds now,
                                  std::optional<Uuid> keep = std::nullopt) = 0;
  // Ends the least recently used live sessions (ties: the older first) so
  // that at most `keep` remain. Returns how many were ended.
  virtual int revoke_least_recently_used(const Uuid& user_id, unsigned keep, UnixSeconds now,
                                         UnixSeconds idle_ttl) = 0;

  // Refresh rotation: `spent_hash` (the current token's digest) becomes the
  // previous one and is kept in the session's history, `new_hash` becomes
  // current, `sealed` holds the new token sealed under a key derived from
  // the spent one, and the session counts as used now.
  virtual void rotate_refresh(const Uuid& id, std::string_view spent_hash,
                              std::string_view new_hash, std::string_view sealed,
                              UnixSeconds now) = 0;
  // Whether `hash` is a refresh token this session already spent.
  virtual bool refresh_was_spent(const Uuid& id, std::string_view hash) = 0;

  struct WithUser {
    Session session;
    User user;
    // How many passkeys the user has, where the store read it in the same
    // statement; empty when the caller must ask the passkey store.
    std::optional<unsigned> passkeys;
  };
  // The session and the user it belongs to (GET /auth/me). This default
  // reads them one after the other; a store that can read both at once
  // (one SQL join: one round trip to the database) does, with the passkey
  // count.
  virtual std::optional<WithUser> find_with_user(const Uuid& id, UserStore& users) {
    auto session = find(id);
    if (!session) return std::nullopt;
    auto user = users.find_by_id(session->user_id);
    if (!user) return std::nullopt;
    return WithUser{std::move(*session), std::move(*user), std::nullopt};
  }
};

}  // namespace authd
