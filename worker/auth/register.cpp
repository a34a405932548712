// Use case: create an account.
#include "auth/auth_service.h"
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
  const User user = new_account(email, deps_.hasher.hash(*normalised), deps_.clock, deps_.random);

  // One commit: the account, its verification link and the message that
  // carries it (the mailer sends it later, never this request).
  const bool inserted =
      insert_account_with_link(deps_.users, deps_.transactions, "register", user, [&] {
        LinkIssuer(deps_.email_tokens, deps_.outbox, deps_.clock, deps_.random, policy_.mail)
            .issue(user, LinkPurpose::verify_email, /*counts_toward_cap=*/false);
      });
  if (!inserted) {
    log::audit("register", {{"outcome", "email_taken"}, {"ip", client.ip}});
    return fail(AuthErrc::email_taken, "An account with this email already exists.");
  }
  log::audit("register", {{"outcome", "ok"}, {"user_id", user.id.to_string()}, {"ip", client.ip}});
  return user;
}

}  // namespace authd
