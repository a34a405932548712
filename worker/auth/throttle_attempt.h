#pragma once
// One attempt at a secret (a password, a TOTP or recovery code) admitted
// past the per-account throttle (API.md "Throttling"). Every use case that
// judges a secret goes through it: login, password change, the second step
// of a login, TOTP setup and confirm, new recovery codes, turning TOTP off
// (and the passkey registration options and DELETE /auth/me when they come).
//
// How to use it, in a use case of AuthService:
//
//   ThrottleAttempt attempt;
//   if (auto refused = admit(email, client, "action", &attempt)) return *refused;  // 429
//   if (!secret_matches) { attempt.failed(); return 401; }
//   ... attempt.succeeded();   // only where a right secret clears the counters
//   // returning without either (a 403, a 409, a lost race) gives the attempt back
//
// admit() counts the attempt as a failure before the secret is judged: the
// two counter rows are upserted, then in one transaction locked (SELECT …
// FOR UPDATE), judged again under the lock, and bumped (a deadlock victim
// is run again: MysqlThrottleStore). So a burst spread over
// every worker of every host is judged exactly as the contract says, the
// very first burst on a fresh email included (finding 4 and 5 of issue 17):
// each attempt sees every attempt admitted before it. How the attempt ends
// settles that count: failed() keeps it; succeeded() clears both counters;
// an attempt that ends neither way (the right password, but the account is
// disabled, unverified or a second factor is due) gives it back when this
// object goes out of scope.
#include <string>

#include "ports/throttle_store.h"

namespace authd {

class ThrottleAttempt {
 public:
  ThrottleAttempt() = default;
  ~ThrottleAttempt();
  ThrottleAttempt(const ThrottleAttempt&) = delete;
  ThrottleAttempt& operator=(const ThrottleAttempt&) = delete;

  // The secret was wrong: the failure counted in advance stays counted.
  void failed();
  // The secret was right and this counts as a success: both counters of the
  // email and address start again (a lost commit leaves them standing,
  // which is only stricter).
  void succeeded();
  // Ends the attempt where it stands, with nothing cleared and nothing given
  // back: for a success whose own commit removed the counters already (an
  // account closed), where a clear would be one more write to fail.
  void settle() { settled_ = true; }

  // The counters as they were just before this attempt was counted.
  const ThrottleStore::Counters& seen() const { return before_; }
  // Whether the attempt was admitted and counted (false after a 429).
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
