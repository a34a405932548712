#pragma once
// The rows the stores hand to the service: plain values, no behaviour.
#include <cstdint>
#include <optional>
#include <string>

#include "ports/clock.h"
#include "ports/uuid.h"

namespace authd {

struct User {
  Uuid id;
  std::string email;          // normalised (trimmed, lower case)
  std::string password_hash;  // PHC string from crypto_pwhash_str
  UnixSeconds created_at = 0;
  UnixSeconds password_changed_at = 0;
  std::optional<UnixSeconds> disabled_at;
  std::optional<UnixSeconds> email_verified_at;
  bool mfa_enabled = false;
  // When a login (password, second step, passkey) last opened a session.
  std::optional<UnixSeconds> last_login_at;
};

struct Session {
  Uuid id;
  Uuid user_id;
  UnixSeconds created_at = 0;
  UnixSeconds last_used_at = 0;
  UnixSeconds expires_at = 0;  // absolute end of life
  UnixSeconds auth_time = 0;   // when the login that opened it happened
  std::optional<UnixSeconds> revoked_at;
  std::string amr = "pwd";  // comma-separated RFC 8176 values
  std::string user_agent;
  std::string ip;
  // Refresh-token rotation bookkeeping (SHA-256 digests, never tokens).
  std::string refresh_hash;
  std::string prev_refresh_hash;
  std::string
      next_refresh_sealed;  // the current token sealed under a key derived from the previous
  std::optional<UnixSeconds> rotated_at;
};

// The second factor of a user (sealed secrets only).
struct MfaState {
  bool enabled = false;
  std::optional<UnixSeconds> enabled_at;  // when it was confirmed
  std::string secret_sealed;              // the confirmed TOTP secret
  std::string pending_sealed;             // a setup not confirmed yet
  std::optional<std::int64_t> last_step;  // last TOTP time step accepted
};

// A user's sealed TOTP values, as stored (empty: none).
struct SealedTotp {
  Uuid user_id;
  std::string secret_sealed;
  std::string pending_sealed;
};

// One unused recovery code: its slot and its Argon2id hash.
struct RecoveryCode {
  unsigned slot = 0;
  std::string hash;
};

// The second step of a login, pending.
struct MfaChallenge {
  std::string token_hash;  // SHA-256 of the mfa_token
  Uuid user_id;
  std::string ip;
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
  std::optional<UnixSeconds> spent_at;
};

// One throttling counter row: a (email, client address) pair, or an email
// across addresses.
struct ThrottleCounter {
  unsigned failures = 0;
  UnixSeconds last_failure_at = 0;
  UnixSeconds blocked_until = 0;
};

}  // namespace authd
