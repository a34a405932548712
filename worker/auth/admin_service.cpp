#include "auth/admin_service.h"

#include "auth/account_closure.h"
#include "auth/commit_outcome.h"
#include "auth/email.h"
#include "auth/ids.h"
#include "auth/link_issuer.h"
#include "log/log.h"
#include "ports/store_errors.h"

namespace authd {
namespace {

AuthError no_such_account() {
  return fail(AuthErrc::not_found, "No account has this id.");
}

Actor actor_of(const AdminCaller& caller) {
  return Actor{"admin", caller.key_name};
}

}  // namespace

AdminService::AdminService(AdminDeps deps, AdminPolicy policy)
    : deps_(deps), policy_(std::move(policy)), cursor_(policy_.secret_key) {}

OperatorService AdminService::operators() {
  return OperatorService(deps_.users, deps_.sessions, deps_.throttle, deps_.mfa, deps_.email_tokens,
                         deps_.transactions, deps_.clock);
}

Outcome<AdminCaller> AdminService::authenticate(std::string_view bearer, AdminScope needed,
                                                std::string* key_name) {
  const auto refused = fail(AuthErrc::invalid_token, "The admin key is invalid or revoked.");
  // An access token, or anything else that is not a key's shape, is
  // refused without a lookup.
  if (!looks_like_admin_key(bearer)) return refused;
  auto key = deps_.keys.find_by_hash(admin_key_digest(bearer));
  if (key && key_name != nullptr) *key_name = key->name;
  // Read on every request, never cached: a revoked key is refused at once
  // by every worker.
  if (!key || key->revoked_at) return refused;
  if (!scopes_grant(key->scopes, needed)) {
    AuthError e = fail(AuthErrc::insufficient_scope,
                       "This key lacks the scope " + std::string(scope_name(needed)) + ".");
    return e;
  }
  const UnixSeconds now = deps_.clock.now();
  if (!key->last_used_at || *key->last_used_at + policy_.key_use_granularity_s <= now) {
    try {
      deps_.keys.record_use(key->id, now, now - policy_.key_use_granularity_s);
    } catch (const StoreUnavailable&) {
      // Bookkeeping only (a lost commit or connection included): the request
      // goes on, and its own reads find out whether the database is there.
      log::warn("admin_key_use_unknown", {{"admin_key", key->name}});
    }
  }
  return AdminCaller{key->id, key->name};
}

AdminService::Search AdminService::search_for(std::string_view decoded_email) {
  Search s;
  std::string email = email::normalise(decoded_email);
  // A trailing `*` is the only wildcard; `%` and `_` are literal.
  if (!email.empty() && email.back() == '*') {
    email.pop_back();
    s.prefix = true;
  }
  s.email = std::move(email);
  return s;
}

bool AdminService::read_cursor(std::string_view cursor, Search& search) const {
  auto before = cursor_.read(cursor, AdminCursor::search_fingerprint(search.email, search.prefix));
  if (!before) return false;
  search.before = *before;
  return true;
}

AccountPage AdminService::list_accounts(const AdminCaller& caller, const Search& search,
                                        unsigned limit, std::size_t email_filter_length) {
  AccountDirectory::Query q;
  q.email = search.email;
  q.prefix = search.prefix;
  q.before = search.before;
  q.limit = limit + 1;  // one more: is there a next page?
  AccountPage page;
  // Matching nothing needs no query: an exact address longer than any
  // stored one.
  if (search.email.size() <= 254) page.accounts = deps_.directory.list(q);
  if (page.accounts.size() > limit) {
    page.accounts.resize(limit);
    page.next_cursor = cursor_.make(page.accounts.back().user.id,
                                    AdminCursor::search_fingerprint(search.email, search.prefix));
  }
  // The length of the filter, not the address: audit lines keep no email.
  log::audit("admin_users_listed",
             {{"admin_key", caller.key_name},
              {"email_filter_length", static_cast<std::int64_t>(email_filter_length)},
              {"prefix", search.prefix},
              {"page", search.before.has_value()},
              {"results", static_cast<std::int64_t>(page.accounts.size())}});
  return page;
}

Outcome<User> AdminService::find_account(const AdminCaller& caller, std::string_view action,
                                         std::string_view id) {
  auto uuid = Uuid::parse(id);
  std::optional<User> user;
  if (uuid) user = deps_.users.find_by_id(*uuid);
  if (!user) {
    log::audit(action,
               {{"outcome", "not_found"}, {"actor", "admin"}, {"admin_key", caller.key_name}});
    return no_such_account();
  }
  return std::move(*user);
}

Outcome<AccountSummary> AdminService::summary_of(const Uuid& id) {
  auto found = deps_.directory.find(id);
  if (!found) return no_such_account();
  return std::move(*found);
}

Outcome<AccountDetail> AdminService::account(const AdminCaller& caller, std::string_view id) {
  auto uuid = Uuid::parse(id);
  std::optional<AccountSummary> found;
  if (uuid) found = deps_.directory.find(*uuid);
  if (!found) return no_such_account();
  AccountDetail detail;
  detail.sessions =
      deps_.sessions.list_live(found->user.id, deps_.clock.now(), policy_.refresh_idle_ttl_s);
  detail.account = std::move(*found);
  log::audit("admin_user_read",
             {{"admin_key", caller.key_name}, {"user_id", detail.account.user.id.to_string()}});
  return detail;
}

Outcome<AccountSummary> AdminService::invite(const AdminCaller& caller,
                                             std::string_view raw_email) {
  const std::string email = email::normalise(raw_email);
  if (!email::is_valid(email)) {
    return fail(AuthErrc::invalid_email, "This is not a valid email address.");
  }
  // A password nobody knows (32 random bytes, hashed like any other): a
  // login answers 401 in the same time as any wrong password until the
  // invitation's link sets the first one.
  User user = new_account(email, deps_.hasher.hash(new_random_token(deps_.random, 32)), deps_.clock,
                          deps_.random);

  // One commit: the account, its link and the invitation that carries it.
  const bool inserted =
      insert_account_with_link(deps_.users, deps_.transactions, "invite", user, [&] {
        LinkIssuer(deps_.email_tokens, deps_.outbox, deps_.clock, deps_.random, policy_.mail)
            .invite(user);
      });
  if (!inserted) {
    log::audit("account_invited",
               {{"outcome", "email_taken"}, {"actor", "admin"}, {"admin_key", caller.key_name}});
    return fail(AuthErrc::email_taken, "An account with this email already exists.");
  }
  log::audit("account_invited", {{"outcome", "ok"},
                                 {"actor", "admin"},
                                 {"admin_key", caller.key_name},
                                 {"user_id", user.id.to_string()}});
  return AccountSummary{std::move(user), 0};
}

Outcome<AccountSummary> AdminService::disable(const AdminCaller& caller, std::string_view id) {
  auto user = find_account(caller, "account_disabled", id);
  if (!user) return user.error();
  const Uuid uuid = user.value().id;
  // Closed between the look-up and the write: 404, as a look-up after it.
  if (!operators().disable(std::move(user.value()), actor_of(caller))) return no_such_account();
  return summary_of(uuid);
}

Outcome<AccountSummary> AdminService::enable(const AdminCaller& caller, std::string_view id) {
  auto user = find_account(caller, "account_enabled", id);
  if (!user) return user.error();
  const Uuid uuid = user.value().id;
  // Closed between the look-up and the write: 404, as a look-up after it.
  if (!operators().enable(std::move(user.value()), actor_of(caller))) return no_such_account();
  return summary_of(uuid);
}

Outcome<int> AdminService::end_sessions(const AdminCaller& caller, std::string_view id) {
  auto user = find_account(caller, "session_ended", id);
  if (!user) return user.error();
  return operators().revoke_sessions(std::move(user.value()), actor_of(caller)).sessions_ended;
}

Outcome<bool> AdminService::close(const AdminCaller& caller, std::string_view id) {
  auto uuid = Uuid::parse(id);
  if (!uuid) return no_such_account();
  auto closed = AccountCloser(deps_.users, deps_.outbox, deps_.transactions, deps_.clock,
                              deps_.random, policy_.mail)
                    .close(*uuid);
  if (!closed) {
    log::audit("account_closed",
               {{"outcome", "not_found"}, {"actor", "admin"}, {"admin_key", caller.key_name}});
    return closed.error();
  }
  // The account id, never the email: the line outlives the account.
  log::audit("account_closed", {{"outcome", "ok"},
                                {"actor", "admin"},
                                {"admin_key", caller.key_name},
                                {"user_id", uuid->to_string()}});
  return true;
}

}  // namespace authd
