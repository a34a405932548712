// Use cases: verify an email with the emailed token; ask for a new link;
// refuse logins of unverified accounts when REQUIRE_VERIFIED_EMAIL is on.
#include "auth/auth_service.h"
#include "auth/commit_outcome.h"
#include "auth/email.h"
#include "auth/link_token.h"
#include "log/log.h"

namespace authd {
namespace {

// Longer than any address registration accepts: it cannot be an account's.
constexpr std::size_t kMaxEmailBytes = 254;

}  // namespace

Outcome<User> AuthService::verify_email(std::string_view token, const ClientInfo& client) {
  const UnixSeconds now = deps_.clock.now();
  std::optional<User> verified;
  // Why a link was refused, for the audit line (the client gets one answer).
  std::string_view refused = "malformed";
  if (is_link_token_shape(token)) {
    const std::string hash = link_token_digest(token);
    write_then_settle(
        "email_verification",
        [&] {
          deps_.transactions.in_transaction([&] {
            // Afresh on every run: a run that lost to another use of this
            // link (a conflict, run again) finds the token spent.
            verified.reset();
            auto row = deps_.email_tokens.find_for_update(hash);
            if (!row || row->purpose != LinkPurpose::verify_email) {
              refused = "unknown";  // never issued, other purpose, or spent
              return;
            }
            if (now >= row->expires_at) {
              refused = "expired";
              return;
            }
            auto user = deps_.users.find_by_id(row->user_id);
            if (!user) {
              refused = "no_account";
              return;
            }
            // Spent, and with it every other verification link of the account:
            // the address is proven.
            deps_.email_tokens.remove_all(user->id, LinkPurpose::verify_email);
            if (deps_.users.mark_email_verified(user->id, now)) user->email_verified_at = now;
            verified = std::move(user);
          });
        },
        // Committed when the address reads as verified and the token as
        // spent (another use of it in between means the same to the user).
        [&] {
          if (!verified) return true;
          auto stored = deps_.users.find_by_id(verified->id);
          return stored && stored->email_verified_at && !deps_.email_tokens.find(hash);
        });
  }
  if (!verified) {
    log::audit("email_verification",
               {{"outcome", "invalid_token"}, {"reason", refused}, {"ip", client.ip}});
    return fail(AuthErrc::invalid_token, "The verification link is invalid, used or expired.");
  }
  log::audit("email_verification",
             {{"outcome", "ok"}, {"user_id", verified->id.to_string()}, {"ip", client.ip}});
  return std::move(*verified);
}

void AuthService::request_verification_email(std::string_view email, const ClientInfo& client) {
  queue_mail_request(LinkPurpose::verify_email, email, client);
}

void AuthService::request_password_reset(std::string_view email, const ClientInfo& client) {
  queue_mail_request(LinkPurpose::reset_password, email, client);
}

void AuthService::queue_mail_request(LinkPurpose purpose, std::string_view raw_email,
                                     const ClientInfo& client) {
  // No account lookup here: the same one INSERT whatever the email, so the
  // answer and its time say nothing about who has an account. The mailer
  // decides (no account, already verified, disabled, over the cap: nothing).
  const std::string email = email::normalise(raw_email);
  if (email.empty() || email.size() > kMaxEmailBytes) return;
  const bool queued =
      deps_.mail_requests.add(purpose, email, deps_.clock.now(), policy_.mail.request_queue_max);
  log::info("mail_requested",
            {{"kind", purpose_name(purpose)}, {"queued", queued}, {"ip", client.ip}});
}

std::optional<AuthError> AuthService::unverified_email_refusal(const User& user,
                                                               const ClientInfo& client,
                                                               std::string_view action) {
  if (!policy_.mail.require_verified_email || user.email_verified_at) return std::nullopt;
  log::audit(
      action,
      {{"outcome", "email_not_verified"}, {"user_id", user.id.to_string()}, {"ip", client.ip}});
  return fail(AuthErrc::email_not_verified,
              "Verify your email address first: follow the link in the message we sent.");
}

}  // namespace authd
