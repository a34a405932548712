#pragma once
// Operators' actions (`authd user …`, and the admin API's disable, enable
// and end-sessions): no password, no token; each is one audit line naming
// who acted. An email with no account is not_found and changes nothing.
#include <string_view>

#include "auth/mail_policy.h"
#include "auth/outcome.h"
#include "ports/clock.h"
#include "ports/email_token_store.h"
#include "ports/mfa_store.h"
#include "ports/outbox_store.h"
#include "ports/passkey_store.h"
#include "ports/random.h"
#include "ports/records.h"
#include "ports/session_store.h"
#include "ports/throttle_store.h"
#include "ports/transaction.h"
#include "ports/user_store.h"

namespace authd {

// Who acted: the shell (`authd user`), or an admin API key (by name).
struct Actor {
  std::string_view kind = "operator";  // "operator" or "admin"
  std::string_view admin_key;          // the key's name, for "admin"
};

struct OperatorResult {
  User user;
  int sessions_ended = 0;
  int counters_cleared = 0;
  int passkeys_removed = 0;
};

// What removing passkeys needs besides the account: their store, and the
// outbox for the notice to the account's address.
struct PasskeyResetDeps {
  PasskeyStore& passkeys;
  OutboxStore& outbox;
  Random& random;
  const MailPolicy& mail;
};

class OperatorService {
 public:
  OperatorService(UserStore& users, SessionStore& sessions, ThrottleStore& throttle, MfaStore& mfa,
                  EmailTokenStore& email_tokens, TransactionRunner& transactions,
                  const Clock& clock)
      : users_(users),
        sessions_(sessions),
        throttle_(throttle),
        mfa_(mfa),
        email_tokens_(email_tokens),
        transactions_(transactions),
        clock_(clock) {}

  // Disabled, every session ended, pending reset links and the second steps
  // of logins under way voided, in one commit: enabling the account later
  // brings none of them back.
  Outcome<OperatorResult> disable_user(std::string_view email);
  // Sessions stay ended.
  Outcome<OperatorResult> enable_user(std::string_view email);
  Outcome<OperatorResult> revoke_user_sessions(std::string_view email);
  // Clears the failed-login counters of the email (every address).
  Outcome<OperatorResult> unlock_user(std::string_view email);
  // For a user who lost the device and the codes: the factor off, its
  // pending logins void and every session ended, in one commit.
  Outcome<OperatorResult> reset_mfa(std::string_view email);
  // For a user who lost a device: every passkey removed and a notice
  // queued, in one commit. Sessions stay (the password still works).
  Outcome<OperatorResult> reset_passkeys(std::string_view email, const PasskeyResetDeps& deps);

  // The same on an account already found. An account closed since it was
  // found is not_found (nothing written, audited as such), not a success.
  Outcome<OperatorResult> disable(User user, const Actor& actor);
  Outcome<OperatorResult> enable(User user, const Actor& actor);
  OperatorResult revoke_sessions(User user, const Actor& actor);

 private:
  UserStore& users_;
  SessionStore& sessions_;
  ThrottleStore& throttle_;
  MfaStore& mfa_;
  EmailTokenStore& email_tokens_;
  TransactionRunner& transactions_;
  const Clock& clock_;
};

}  // namespace authd
