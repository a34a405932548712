#pragma once
// What the use cases and the adapters report for monitoring: events and
// durations, nothing more. Metric names, labels and the exposition format
// belong to the metrics room (worker/metrics/), so nothing here knows
// Prometheus, and a service without a registry reports into NullMetricsSink.
#include <chrono>

namespace authd {

// How a login attempt ended: at the password step, or at the second
// factor's step (/auth/mfa/verify), which reports ok, failed and throttled
// the same way. mfa_required: the right password, the second step pending.
enum class LoginOutcome { ok, failed, throttled, disabled, mfa_required };

// How a passkey registration ended (POST /auth/passkeys/register): ok, a
// failed WebAuthn check (invalid: 422), a credential id registered already,
// or the account at MAX_PASSKEYS_PER_USER.
enum class PasskeyRegistration { ok, invalid, exists, limit };

// How a passkey login ended, passwordless (/auth/passkeys/login) or as the
// second step of a password login (/auth/mfa/verify): ok; failed (a
// registered passkey failed a check: a failed login); unknown_credential;
// invalid_challenge (not issued, spent or expired); refused (verified, but
// the account is disabled or its address unverified).
enum class PasskeyLoginKind { passwordless, second_factor };
enum class PasskeyLogin { ok, failed, unknown_credential, invalid_challenge, refused };

// One Argon2id computation.
enum class PasswordWork { hash, verify };

// A database connection that could not be opened, or was found lost; a
// transaction or write rolled back because it lost to a concurrent one
// (1213: a deadlock, a failed certification on a cluster); a database node
// that answered but could not take work (a Galera node not Synced, or out
// of the primary component: 1047).
enum class DatabaseFailure { connect, lost, conflict, unusable_node };

class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  virtual void login(LoginOutcome outcome) noexcept = 0;
  virtual void password_work(PasswordWork work, std::chrono::nanoseconds took) noexcept = 0;
  virtual void refresh_reuse_detected() noexcept = 0;
  virtual void database_failure(DatabaseFailure failure) noexcept = 0;
  // A connection opened again after an earlier one of this process was
  // lost or closed.
  virtual void database_reconnected() noexcept = 0;
  // Passkey ceremonies (a sink that does not count them need not say so).
  virtual void passkey_registration(PasskeyRegistration) noexcept {}
  virtual void passkey_login(PasskeyLoginKind, PasskeyLogin) noexcept {}
};

class NullMetricsSink final : public MetricsSink {
 public:
  void login(LoginOutcome) noexcept override {}
  void password_work(PasswordWork, std::chrono::nanoseconds) noexcept override {}
  void refresh_reuse_detected() noexcept override {}
  void database_failure(DatabaseFailure) noexcept override {}
  void database_reconnected() noexcept override {}

  // One shared instance: it holds no state.
  static NullMetricsSink& instance() noexcept {
    static NullMetricsSink sink;
    return sink;
  }
};

}  // namespace authd
