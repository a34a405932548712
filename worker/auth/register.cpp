// Use case: create an account.
#include "auth/auth_service.h"
#include "auth/commit_outcome.h"
#include "auth/email.h"
#include "auth/ids.h"
#include "auth/link_issuer.h"
#include "log/log.h"

namespace authd {

Outcome<User> AuthService::register_user(std::string_view raw_email, std::string_view password,
                                         const ClientInfo& client) {
  std::string email = email::normalise(raw_email);
  if (!email::is_valid(email)) {
    return fail(AuthErrc::invalid_email, "This is not a valid email address.");
  }
  auto normalised = nfkc_password(password);
  if (!normalised) {
    return fail(AuthErrc::weak_password, "Password must not contain NUL characters.");
  }
  if (auto reason = weak_password_reason(*normalised, email, policy_.password_rules)) {
    return fail(AuthErrc::weak_password, *reason);
  }

  // Hash before looking at the email, so a taken address costs the same time
  // as a free one (and `email_taken` is judged last, as API.md orders it).
  User user;
  user.password_hash = deps_.hasher.hash(*normalised);
  const UnixSeconds now = deps_.clock.now();
  user.id = new_uuid_v7(deps_.clock, deps_.random);
  user.email = email;
  user.created_at = now;
  user.password_changed_at = now;

  // One commit: the account, its verification link and the message that
  // carries it (the mailer sends it later, never this request).
  bool taken = false;
  write_then_settle(
      "register",
      [&] {
        deps_.transactions.in_transaction([&] {
          taken = deps_.users.insert(user) == UserStore::InsertResult::email_taken;
          if (taken) return;
          LinkIssuer(deps_.email_tokens, deps_.outbox, deps_.clock, deps_.random, policy_.mail)
              .issue(user, LinkPurpose::verify_email, /*counts_toward_cap=*/false);
        });
      },
      // Our row is the one with the id we chose and the hash we made (the
      // link and the message were in the same commit). A taken email wrote
      // nothing: its answer stands whatever the commit did.
      [&] {
        if (taken) return true;
        auto stored = deps_.users.find_by_id(user.id);
        return stored && stored->password_hash == user.password_hash;
      });
  if (taken) {
    log::audit("register", {{"outcome", "email_taken"}, {"ip", client.ip}});
    return fail(AuthErrc::email_taken, "An account with this email already exists.");
  }
  log::audit("register", {{"outcome", "ok"}, {"user_id", user.id.to_string()}, {"ip", client.ip}});
  return user;
}

}  // namespace authd
