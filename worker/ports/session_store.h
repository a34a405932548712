#pragma once
#include <optional>
#include <vector>

#include "ports/records.h"

namespace authd {

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  virtual void insert(const Session& session) = 0;
  virtual std::optional<Session> find(const Uuid& id) = 0;
  // Ends every live session of the user except `keep` (if given). Returns
  // how many were ended.
  virtual int revoke_all_for_user(const Uuid& user_id, UnixSeconds now,
                                  std::optional<Uuid> keep = std::nullopt) = 0;
};

}  // namespace authd
