#pragma once
// The use cases: register, login, change password, refresh, logout, the
// user's sessions, bearer authentication. Knows
// the ports only: no HTTP, no SQL, no libraries' handles.
#include <string>
#include <string_view>
#include <vector>

#include "auth/mail_policy.h"
#include "auth/outcome.h"
#include "auth/password_policy.h"
#include "auth/sealed.h"
#include "auth/throttle_attempt.h"
#include "auth/throttle_policy.h"
#include "ports/clock.h"
#include "ports/email_token_store.h"
#include "ports/metrics_sink.h"
#include "ports/mfa_store.h"
#include "ports/outbox_store.h"
#include "ports/passkey_store.h"
#include "ports/password_hasher.h"
#include "ports/random.h"
#include "ports/records.h"
#include "ports/session_store.h"
#include "ports/throttle_store.h"
#include "ports/token_signer.h"
#include "ports/transaction.h"
#include "ports/user_store.h"
#include "webauthn/verify.h"

namespace authd {

struct ServicePolicy {
  UnixSeconds token_ttl_s = 900;
  UnixSeconds refresh_idle_ttl_s = 14 * 86400;
  UnixSeconds refresh_absolute_ttl_s = 30 * 86400;
  UnixSeconds refresh_reuse_grace_s = 10;
  UnixSeconds reauth_max_age_s = 300;
  unsigned max_sessions_per_user = 50;
  PasswordRules password_rules;
  ThrottleLimits throttle;
  bool reveal_unknown_email = false;
  // Second factor: the key that seals TOTP secrets (enrolment is refused
  // without one) and the name authenticator apps show.
  std::optional<SealingKey> mfa_key;
  std::string mfa_issuer = "auth";
  UnixSeconds mfa_challenge_ttl_s = 300;
  MailPolicy mail;
  // Passkeys: the relying party (WEBAUTHN_RP_ID, _RP_NAME, _ORIGINS), how
  // many an account may have, how long a ceremony's challenge lasts.
  webauthn::RelyingParty relying_party{"localhost", "auth", {"https://localhost:8443"}};
  unsigned max_passkeys_per_user = 10;
  UnixSeconds webauthn_challenge_ttl_s = 300;
};

struct ServiceDeps {
  UserStore& users;
  SessionStore& sessions;
  ThrottleStore& throttle;
  MfaStore& mfa;
  TransactionRunner& transactions;
  PasswordHasher& hasher;
  TokenSigner& tokens;
  const Clock& clock;
  Random& random;
  // Emails with links (auth/email_verification.cpp, auth/password_reset.cpp).
  EmailTokenStore& email_tokens;
  OutboxStore& outbox;
  MailRequestStore& mail_requests;
  PasskeyStore& passkeys;
  // Login outcomes and refresh reuse are reported here (none when null).
  MetricsSink* metrics = nullptr;
};

// Who is asking, as far as the network says (sessions, throttling, audit).
struct ClientInfo {
  std::string ip;
  std::string user_agent;
};

// What login, password change and refresh hand back.
struct TokenGrant {
  std::string access_token;
  UnixSeconds expires_in = 0;
  std::string refresh_token;
  UnixSeconds refresh_expires_in = 0;
  User user;
  Session session;
};

// A bearer token that verified and whose session is live.
struct Authenticated {
  AccessClaims claims;
  Session session;
};

// A TOTP enrolment started: what the authenticator app needs.
struct TotpEnrolment {
  std::string secret_base32;
  std::string otpauth_uri;
};

// What a browser needs to create a passkey (API.md: the `publicKey` of
// register/options); the relying party is the policy's.
struct PasskeyCreationOptions {
  std::string challenge;    // 32 random bytes
  std::string user_handle;  // the account's, 32 bytes
  std::string user_name;    // the email
  std::vector<Passkey> exclude;
};

// What a browser needs to use one (login/options, mfa/passkey/options).
struct PasskeyRequestOptions {
  std::string challenge;
  std::vector<Passkey> allow;  // empty: any discoverable passkey of this RP
  bool user_verification_required = true;
};

struct SessionList {
  std::vector<Session> sessions;
  Uuid current;
};

class AuthService {
 public:
  AuthService(ServiceDeps deps, ServicePolicy policy);

  Outcome<User> register_user(std::string_view email, std::string_view password,
                              const ClientInfo& client);
  Outcome<TokenGrant> login(std::string_view email, std::string_view password,
                            const ClientInfo& client);
  // `second_factor`: a TOTP or recovery code, needed while the factor is on.
  Outcome<TokenGrant> change_password(std::string_view email, std::string_view current_password,
                                      std::string_view new_password,
                                      std::optional<std::string_view> second_factor,
                                      const ClientInfo& client);
  Outcome<TokenGrant> refresh(std::string_view refresh_token, const ClientInfo& client);

  // The token's signature and claims, then its session: live, of its user.
  Outcome<Authenticated> authenticate(std::string_view bearer_token);
  Outcome<User> current_user(std::string_view bearer_token);

  // Logout: this session, or (all) every session of the user, which needs
  // a recent login.
  Outcome<int> logout(const Authenticated& who, bool all, const ClientInfo& client);
  Outcome<SessionList> list_sessions(const Authenticated& who);
  Outcome<bool> end_session(const Authenticated& who, std::string_view session_id,
                            const ClientInfo& client);

  // Second factor (API.md "Second factor: TOTP and recovery codes").
  Outcome<TotpEnrolment> mfa_setup(const Authenticated& who, std::string_view password,
                                   const ClientInfo& client);
  Outcome<std::vector<std::string>> mfa_confirm(const Authenticated& who, std::string_view code,
                                                const ClientInfo& client);
  // The second step of a login: exactly one of `code`, `recovery_code`.
  Outcome<TokenGrant> mfa_verify(std::string_view mfa_token, std::optional<std::string_view> code,
                                 std::optional<std::string_view> recovery_code,
                                 const ClientInfo& client);
  Outcome<std::vector<std::string>> mfa_new_recovery_codes(const Authenticated& who,
                                                           std::string_view password,
                                                           const ClientInfo& client);
  Outcome<bool> mfa_disable(const Authenticated& who, std::string_view password,
                            std::string_view code, const ClientInfo& client);
  // Passkeys (API.md "Passkeys (WebAuthn)"). Registration needs the
  // password again (and a code while TOTP is on); `transports` as the
  // browser listed them, `name` already checked by the HTTP layer.
  Outcome<PasskeyCreationOptions> passkey_registration_options(
      const Authenticated& who, std::string_view password,
      std::optional<std::string_view> second_factor, const ClientInfo& client);
  Outcome<Passkey> register_passkey(const Authenticated& who,
                                    const webauthn::Registration& response,
                                    const std::vector<std::string>& transports,
                                    std::string_view name, const ClientInfo& client);
  Outcome<std::vector<Passkey>> list_passkeys(const Authenticated& who);
  Outcome<bool> remove_passkey(const Authenticated& who, std::string_view passkey_id,
                               const ClientInfo& client);
  unsigned passkey_count(const Uuid& user_id);
  // Passwordless login: options that name no account, then the assertion.
  PasskeyRequestOptions passkey_login_options();
  Outcome<TokenGrant> passkey_login(const webauthn::Assertion& response, const ClientInfo& client);
  // A passkey as the second step of a password login.
  Outcome<PasskeyRequestOptions> mfa_passkey_options(std::string_view mfa_token,
                                                     const ClientInfo& client);
  Outcome<TokenGrant> mfa_verify_passkey(std::string_view mfa_token,
                                         const webauthn::Assertion& response,
                                         const ClientInfo& client);

  // `403 mfa_required` with a fresh mfa_token bound to the client address
  // (login, and a password reset while the factor is on).
  AuthError mfa_challenge(const User& user, const ClientInfo& client);
  // Emails with links (API.md). Verification: the emailed token marks the
  // address verified. Resend and forgot answer the same whatever the
  // email: they only queue a request, which the mailer turns into a
  // message or into nothing (MailRequestService).
  Outcome<User> verify_email(std::string_view token, const ClientInfo& client);
  void request_verification_email(std::string_view email, const ClientInfo& client);
  void request_password_reset(std::string_view email, const ClientInfo& client);
  Outcome<TokenGrant> reset_password(std::string_view token, std::string_view new_password,
                                     const ClientInfo& client);
  // DELETE /auth/me: the password (and, while TOTP is on, a code) is the
  // re-authentication; then the account and everything of it go at once.
  Outcome<User> close_account(const Authenticated& who, std::string_view password,
                              std::optional<std::string_view> second_factor,
                              const ClientInfo& client);

  // The per-account throttle in front of every check of a secret (a
  // password or a code): 429 when the (email, address) pair or the email is
  // resting (nothing is hashed then), else the attempt is admitted and
  // already counted as a failure, under the counter rows' lock. The caller
  // then calls attempt->failed() or ->succeeded(), or neither to give it
  // back (auth/throttle_attempt.h shows the whole pattern). `action` names
  // the audit line of a refusal.
  std::optional<AuthError> admit(std::string_view email, const ClientInfo& client,
                                 std::string_view action, ThrottleAttempt* attempt);

  bool session_is_live(const Session& session, UnixSeconds now) const;
  const ServicePolicy& policy() const { return policy_; }

 private:
  // Verifies `password` against the user's hash, or against a dummy hash of
  // the same cost when there is no such user, so both cost the same.
  bool password_matches(const User* user, std::string_view password);
  AuthError throttled_error(std::string_view action, const ClientInfo& client, UnixSeconds wait);
  // A passkey login, which the counters never refuse (a passkey cannot be
  // guessed): a registered passkey that failed a check counts one failure
  // of its owner's email from this address; a success clears both counters.
  void count_passkey_failure(std::string_view email, const ClientInfo& client);
  void clear_after_passkey(std::string_view email, const ClientInfo& client);
  Session new_session(const User& user, const ClientInfo& client, UnixSeconds now,
                      std::string* refresh_token);
  // Inserts the session and ends the least recently used ones beyond the cap.
  void open_session(const Session& session, UnixSeconds now);
  TokenGrant grant_for(const User& user, const Session& session, std::string refresh_token,
                       UnixSeconds now);
  bool recently_authenticated(const Authenticated& who, UnixSeconds now) const;
  // A TOTP code or a recovery code (told apart by their shape), spent if
  // right. Records which kind was used for the audit line.
  bool second_factor_matches(const User& user, std::string_view code, UnixSeconds now,
                             std::string* kind);
  // The code a route takes beside the password while the factor is on
  // (password change, closing the account): none is 403 mfa_required
  // (methods only: neither a failure nor a success), a wrong one 401
  // invalid_mfa_code (a failed attempt, audited under `action`).
  std::optional<AuthError> second_factor_refusal(const User& user,
                                                 std::optional<std::string_view> code,
                                                 ThrottleAttempt& attempt, std::string_view action,
                                                 const ClientInfo& client);
  bool totp_matches(const User& user, std::string_view code, UnixSeconds now);
  bool recovery_code_matches(const User& user, std::string_view code, UnixSeconds now);
  std::vector<std::string> new_recovery_codes(const User& user);
  // The bearer's account, or invalid_token.
  Outcome<User> account_of(const Authenticated& who);
  Session new_session_with(const User& user, const ClientInfo& client, UnixSeconds now,
                           std::string amr, std::string* refresh_token);
  MetricsSink& metrics() const noexcept {
    return deps_.metrics != nullptr ? *deps_.metrics : NullMetricsSink::instance();
  }
  // REQUIRE_VERIFIED_EMAIL: the 403 for an unverified account, asked only
  // once its password checked out, by every use case that opens a session
  // with a password (login, password change, the second step; finding 1 of
  // issue 17). A reset opens one too, but it proves the mailbox first.
  std::optional<AuthError> unverified_email_refusal(const User& user, const ClientInfo& client,
                                                    std::string_view action = "login");
  // A reset proves the mailbox, so it removes every factor enrolled while
  // the address was still unverified: someone who registered another
  // person's address and enrolled one cannot lock the owner out (API.md
  // "Password reset while the factor is on"; finding 6 of issue 17). Runs
  // inside the reset's transaction, on the user row it holds locked and as
  // it was before the reset marks the address verified. Every kind of
  // factor is judged here (passkeys join it). Returns what went, for the
  // audit line.
  std::vector<std::string> remove_factors_enrolled_unverified(const User& user, UnixSeconds now);
  void queue_mail_request(LinkPurpose purpose, std::string_view raw_email,
                          const ClientInfo& client);
  // The pending second step an mfa_token names, judged as /auth/mfa/verify
  // does: unknown, spent, expired or from another address is invalid_token
  // (counting for nothing); a disabled account, account_disabled; an
  // unverified address under REQUIRE_VERIFIED_EMAIL, email_not_verified;
  // then, with an `attempt`, the account's throttle (429, or the attempt
  // admitted and counted: ThrottleAttempt).
  struct SecondStep {
    User user;
    std::string token_hash;
  };
  Outcome<SecondStep> second_step(std::string_view mfa_token, const ClientInfo& client,
                                  ThrottleAttempt* attempt);
  // The second step passed (a code or a passkey): the mfa_token spent, the
  // attempt (if any) a success, a session opened with `amr`.
  Outcome<TokenGrant> complete_second_step(const SecondStep& step, std::string amr,
                                           std::string_view method, const ClientInfo& client,
                                           ThrottleAttempt* attempt);
  // A new ceremony challenge: 32 random bytes, stored hashed.
  std::string new_webauthn_challenge(ChallengePurpose purpose, std::optional<Uuid> user_id,
                                     std::string mfa_token_hash);
  // Spends the challenge a response's client data names; nullopt when it is
  // not one of `purpose`, is spent or expired.
  std::optional<WebAuthnChallenge> take_webauthn_challenge(std::string_view challenge_text,
                                                           ChallengePurpose purpose);
  // WebAuthn L3 §7.2 against the passkey's stored key, then its counter and
  // use (record_passkey_use): nullopt when accepted.
  std::optional<webauthn::Check> verify_passkey_use(const Passkey& passkey,
                                                    const webauthn::Assertion& response,
                                                    bool require_user_verification,
                                                    const ClientInfo& client);
  // The signature counter (WebAuthn L3 §7.2 step 22) and the use stored:
  // nullopt when accepted.
  std::optional<webauthn::Check> record_passkey_use(const Passkey& passkey,
                                                    const webauthn::VerifiedAssertion& verified,
                                                    const ClientInfo& client);

  ServiceDeps deps_;
  ServicePolicy policy_;
  std::string dummy_hash_;
};

}  // namespace authd
