#pragma once
#include <optional>
#include <string_view>
#include <vector>

#include "ports/records.h"

namespace authd {

// The second factor's rows: the user's TOTP state, recovery codes and the
// pending second steps of logins.
class MfaStore {
 public:
  virtual ~MfaStore() = default;

  virtual MfaState read(const Uuid& user_id) = 0;
  // Starts (or restarts) enrolment: only the newest pending secret counts.
  virtual void set_pending(const Uuid& user_id, std::string_view sealed) = 0;
  // Turns the factor on with the pending secret it was confirmed with, and
  // that code's time step as the last accepted. False when `pending` is no
  // longer the pending secret (a newer setup, or already on).
  virtual bool enable(const Uuid& user_id, std::string_view pending, std::int64_t step,
                      UnixSeconds now) = 0;
  // Accepts a TOTP time step once: true only when it is later than the last
  // accepted one (compare-and-swap, so two workers cannot both accept it).
  virtual bool accept_step(const Uuid& user_id, std::int64_t step) = 0;
  // Turns the factor off: secrets, codes and pending logins all go.
  virtual void disable(const Uuid& user_id, UnixSeconds now) = 0;
  // Whether any account has the factor on (startup: the key is needed).
  virtual bool any_enabled() = 0;

  // Re-sealing at start-up (auth/reseal.h). The rows after `after` (by id,
  // up to `limit`) holding a sealed value that is not `size` bytes starting
  // with `version`: the shape of the current format.
  virtual std::vector<SealedTotp> sealed_not_shaped(const Uuid& after, std::size_t size,
                                                    unsigned char version, unsigned limit) = 0;
  // Replaces both sealed values when they are still `before` (compare-and-
  // swap: an enrolment meanwhile wins). Empty means none.
  virtual bool replace_sealed(const SealedTotp& before, const SealedTotp& after) = 0;

  // Recovery codes: the new set replaces every old one.
  virtual void replace_recovery_codes(const Uuid& user_id,
                                      const std::vector<std::string>& hashes) = 0;
  virtual std::vector<RecoveryCode> unused_recovery_codes(const Uuid& user_id) = 0;
  // Spends one code: true only for the first to spend it.
  virtual bool spend_recovery_code(const Uuid& user_id, unsigned slot, UnixSeconds now) = 0;

  virtual void insert_challenge(const MfaChallenge& challenge) = 0;
  virtual std::optional<MfaChallenge> find_challenge(std::string_view token_hash) = 0;
  // Spends it: true only for the first to spend it.
  virtual bool spend_challenge(std::string_view token_hash, UnixSeconds now) = 0;
  // Voids the user's outstanding challenges (factor off, password changed).
  virtual void void_challenges(const Uuid& user_id, UnixSeconds now) = 0;
};

}  // namespace authd
