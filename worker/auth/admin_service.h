#pragma once
// The admin API's use cases (API.md "Admin API"): a back office finds,
// inspects, invites, disables, enables, signs out and deletes accounts with
// an admin key instead of a shell on the server. Every request is one audit
// line naming the key (never the key itself), the action and the account.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/admin_cursor.h"
#include "auth/admin_keys.h"
#include "auth/mail_policy.h"
#include "auth/operator_service.h"
#include "auth/outcome.h"
#include "ports/admin_store.h"
#include "ports/clock.h"
#include "ports/email_token_store.h"
#include "ports/mfa_store.h"
#include "ports/outbox_store.h"
#include "ports/password_hasher.h"
#include "ports/random.h"
#include "ports/session_store.h"
#include "ports/throttle_store.h"
#include "ports/transaction.h"
#include "ports/user_store.h"

namespace authd {

struct AdminDeps {
  UserStore& users;
  SessionStore& sessions;
  ThrottleStore& throttle;
  MfaStore& mfa;
  AccountDirectory& directory;
  AdminKeyStore& keys;
  TransactionRunner& transactions;
  PasswordHasher& hasher;  // the invitation's unusable password hash
  EmailTokenStore& email_tokens;
  OutboxStore& outbox;
  const Clock& clock;
  Random& random;
};

struct AdminPolicy {
  std::string secret_key;                       // SECRET_KEY: the cursor key is derived from it
  MailPolicy mail;                              // the invitation and the closing notice
  UnixSeconds refresh_idle_ttl_s = 14 * 86400;  // which sessions are live
  UnixSeconds key_use_granularity_s = 60;       // last_used_at moves at most this often
};

// The key that made a request, once it was found and judged.
struct AdminCaller {
  Uuid key_id;
  std::string key_name;
};

// An account with its live sessions (GET /admin/users/{id}).
struct AccountDetail {
  AccountSummary account;
  std::vector<Session> sessions;
};

struct AccountPage {
  std::vector<AccountSummary> accounts;
  std::optional<std::string> next_cursor;
};

class AdminService {
 public:
  static constexpr unsigned kDefaultLimit = 50;
  static constexpr unsigned kMaxLimit = 100;

  AdminService(AdminDeps deps, AdminPolicy policy);

  // The key (401 invalid_token: not one, unknown, revoked), then its scope
  // (403 insufficient_scope). Records the use (at most once a minute).
  // `key_name` (optional) gets the name of the key found, even one refused
  // (revoked, or lacking the scope), for the audit line.
  Outcome<AdminCaller> authenticate(std::string_view bearer, AdminScope needed,
                                    std::string* key_name = nullptr);

  // The email filter as API.md says (trimmed, lower-cased; a trailing `*`
  // makes it a prefix), and the cursor read against it: nullopt for a
  // cursor this server did not make for this search (400 naming `cursor`).
  struct Search {
    std::string email;
    bool prefix = false;
    std::optional<Uuid> before;
  };
  static Search search_for(std::string_view decoded_email);
  bool read_cursor(std::string_view cursor, Search& search) const;

  AccountPage list_accounts(const AdminCaller& caller, const Search& search, unsigned limit,
                            std::size_t email_filter_length);
  // `id` as the path gives it: anything that is not an account's id is
  // not_found.
  Outcome<AccountDetail> account(const AdminCaller& caller, std::string_view id);
  Outcome<AccountSummary> invite(const AdminCaller& caller, std::string_view email);
  Outcome<AccountSummary> disable(const AdminCaller& caller, std::string_view id);
  Outcome<AccountSummary> enable(const AdminCaller& caller, std::string_view id);
  Outcome<int> end_sessions(const AdminCaller& caller, std::string_view id);
  Outcome<bool> close(const AdminCaller& caller, std::string_view id);

  const AdminPolicy& policy() const { return policy_; }

 private:
  Outcome<User> find_account(const AdminCaller& caller, std::string_view action,
                             std::string_view id);
  Outcome<AccountSummary> summary_of(const Uuid& id);
  OperatorService operators();

  AdminDeps deps_;
  AdminPolicy policy_;
  AdminCursor cursor_;
};

}  // namespace authd
