#pragma once
// What a use case answers: a value, or the contract's reason for refusing.
// The service speaks in these codes; only the HTTP layer turns them into
// statuses and problem documents.
#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace authd {

enum class AuthErrc {
  invalid_credentials,        // 401
  invalid_token,              // 401
  invalid_mfa_code,           // 401 (422 when confirming enrolment)
  account_disabled,           // 403
  insufficient_scope,         // 403: an admin key without the route's scope
  mfa_required,               // 403
  reauthentication_required,  // 403
  email_not_verified,         // 403
  not_found,                  // 404
  unknown_email,              // 404, only with LOGIN_REVEAL_UNKNOWN_EMAIL
  email_taken,                // 409
  mfa_already_enabled,        // 409
  mfa_not_enabled,            // 409
  passkey_exists,             // 409
  passkey_limit,              // 409
  invalid_email,              // 422
  weak_password,              // 422
  password_unchanged,         // 422
  invalid_passkey,            // 422
  too_many_attempts,          // 429
};

struct AuthError {
  AuthErrc code;
  std::string detail;           // user-facing sentence, never a secret
  long long retry_after_s = 0;  // too_many_attempts only
  // mfa_required extras.
  std::string mfa_token;
  std::vector<std::string> methods;
};

template <class T>
class Outcome {
 public:
  Outcome(T value) : state_(std::move(value)) {}          // NOLINT: implicit by design
  Outcome(AuthError error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() {
    assert(ok());
    return std::get<T>(state_);
  }
  const T& value() const {
    assert(ok());
    return std::get<T>(state_);
  }
  const AuthError& error() const {
    assert(!ok());
    return std::get<AuthError>(state_);
  }

 private:
  std::variant<T, AuthError> state_;
};

inline AuthError fail(AuthErrc code, std::string detail = {}) {
  return AuthError{code, std::move(detail), 0, {}, {}};
}

}  // namespace authd
