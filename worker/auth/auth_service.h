#pragma once
// The use cases: register, login, change password, authenticate a bearer
// token. Knows the ports only: no HTTP, no SQL, no libraries' handles.
#include <string>
#include <string_view>

#include "auth/outcome.h"
#include "auth/password_policy.h"
#include "ports/clock.h"
#include "ports/password_hasher.h"
#include "ports/random.h"
#include "ports/records.h"
#include "ports/session_store.h"
#include "ports/token_signer.h"
#include "ports/transaction.h"
#include "ports/user_store.h"

namespace authd {

struct ServicePolicy {
  UnixSeconds token_ttl_s = 900;
  UnixSeconds refresh_idle_ttl_s = 14 * 86400;
  UnixSeconds refresh_absolute_ttl_s = 30 * 86400;
  PasswordRules password_rules;
  bool reveal_unknown_email = false;
};

struct ServiceDeps {
  UserStore& users;
  SessionStore& sessions;
  TransactionRunner& transactions;
  PasswordHasher& hasher;
  TokenSigner& tokens;
  const Clock& clock;
  Random& random;
};

// Who is asking, as far as the network says (for sessions and audit lines).
struct ClientInfo {
  std::string ip;
  std::string user_agent;
};

// What login, password change and (later) refresh hand back.
struct TokenGrant {
  std::string access_token;
  UnixSeconds expires_in = 0;
  User user;
  Session session;
};

// A bearer token that verified and whose session is live.
struct Authenticated {
  AccessClaims claims;
  Session session;
};

class AuthService {
 public:
  AuthService(ServiceDeps deps, ServicePolicy policy);

  Outcome<User> register_user(std::string_view email, std::string_view password,
                              const ClientInfo& client);
  Outcome<TokenGrant> login(std::string_view email, std::string_view password,
                            const ClientInfo& client);
  Outcome<TokenGrant> change_password(std::string_view email, std::string_view current_password,
                                      std::string_view new_password, const ClientInfo& client);
  // The token's signature and claims, then its session: live, of its user.
  Outcome<Authenticated> authenticate(std::string_view bearer_token);
  Outcome<User> current_user(std::string_view bearer_token);

  bool session_is_live(const Session& session, UnixSeconds now) const;
  const ServicePolicy& policy() const { return policy_; }

 private:
  // Verifies `password` against the user's hash, or against a dummy hash of
  // the same cost when there is no such user, so both cost the same.
  bool password_matches(const User* user, std::string_view password);
  Session new_session(const User& user, const ClientInfo& client, UnixSeconds now);
  TokenGrant grant_for(const User& user, const Session& session, UnixSeconds now);

  ServiceDeps deps_;
  ServicePolicy policy_;
  std::string dummy_hash_;
};

}  // namespace authd
