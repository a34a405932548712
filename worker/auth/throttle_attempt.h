#pragma once
// One password attempt admitted past the per-account throttle (API.md
// "Throttling"), for the use cases that check a password against the
// counters: login and password change.
//
// When the counters already show a failure, the attempt is counted as one
// before the password is checked, under the counter rows' lock, so that the
// attempts other workers are making see it: a burst spread over the pool
// gets exactly the allowed attempts, and the 7th is refused whichever worker
// takes it. How the attempt ends settles that count: a wrong password keeps
// it, a success clears the counters, and an attempt that ends neither way
// (the right password, but the account is disabled or a second factor is
// due) gives it back when this object goes out of scope. An email and
// address with no failure at all reserve nothing (a normal login stays one
// read); such an attempt is counted after the check, when it failed.
#include <string>

#include "ports/throttle_store.h"

namespace authd {

class ThrottleAttempt {
 public:
  ThrottleAttempt() = default;
  ~ThrottleAttempt();
  ThrottleAttempt(const ThrottleAttempt&) = delete;
  ThrottleAttempt& operator=(const ThrottleAttempt&) = delete;

  // The counters as they were before this attempt.
  const ThrottleStore::Counters& seen() const { return before_; }
  // Whether this attempt was counted in advance.
  bool reserved() const { return reserved_; }

 private:
  friend class AuthService;
  ThrottleStore* store_ = nullptr;
  std::string email_;
  std::string ip_;
  ThrottleStore::Counters before_;
  ThrottleStore::Counters after_;  // what the reservation wrote
  bool reserved_ = false;
  bool settled_ = false;
};

}  // namespace authd
