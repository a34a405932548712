#include "auth/link_issuer.h"

#include "auth/commit_outcome.h"
#include "auth/ids.h"
#include "auth/link_token.h"
#include "mail/message.h"
#include "mail/templates.h"
#include "util/time_format.h"

namespace authd {

namespace {

// The envelope of a message to `recipient`: From as configured, Date, and a
// fresh random part for its Message-ID and MIME boundary.
mail::Envelope envelope_to(const MailPolicy& policy, std::string_view recipient, UnixSeconds now,
                           Random& random) {
  mail::Envelope envelope;
  envelope.from_header = policy.mail_from;
  envelope.from_address = policy.mail_from_address;
  envelope.to = std::string(recipient);
  envelope.date = now;
  envelope.unique = new_random_token(random, 18);
  return envelope;
}

}  // namespace

bool insert_account_with_link(UserStore& users, TransactionRunner& transactions,
                              std::string_view use_case, const User& user,
                              const std::function<void()>& issue) {
  bool taken = false;
  write_then_settle(
      use_case,
      [&] {
        transactions.in_transaction([&] {
          taken = users.insert(user) == UserStore::InsertResult::email_taken;
          if (!taken) issue();
        });
      },
      // Our row is the one with the id we chose and the hash we made (the
      // link and the message were in the same commit). A taken email wrote
      // nothing: its answer stands whatever the commit did.
      [&] {
        if (taken) return true;
        auto stored = users.find_by_id(user.id);
        return stored && stored->password_hash == user.password_hash;
      });
  return !taken;
}

UnixSeconds link_lifetime(const MailPolicy& policy, LinkPurpose purpose) {
  return purpose == LinkPurpose::verify_email ? policy.verify_token_ttl_s
                                              : policy.reset_token_ttl_s;
}

OutgoingMail compose_mail(const User& user, MailKind kind, const mail::LetterValues& values,
                          const MailPolicy& policy, const Clock& clock, Random& random,
                          UnixSeconds expires_at, bool counts_toward_cap) {
  const UnixSeconds now = clock.now();
  OutgoingMail mail;
  mail.user_id = user.id;
  mail.kind = kind;
  mail.recipient = user.email;
  mail.message = mail::compose_message(envelope_to(policy, user.email, now, random),
                                       mail::render_letter(kind, values));
  mail.counts_toward_cap = counts_toward_cap;
  mail.created_at = now;
  mail.expires_at = expires_at;
  return mail;
}

void queue_notice(OutboxStore& outbox, const MailPolicy& policy, const Clock& clock, Random& random,
                  const User& user, MailKind kind, std::string_view passkey) {
  constexpr UnixSeconds kNoticeLifetime = 7 * 86400;
  mail::LetterValues values;
  values.link = policy.public_base_url;
  values.email = user.email;
  values.passkey = std::string(passkey);
  values.when = format_rfc3339(clock.now());
  outbox.enqueue(compose_mail(user, kind, values, policy, clock, random,
                              clock.now() + kNoticeLifetime, /*counts_toward_cap=*/false));
}

void LinkIssuer::issue(const User& user, LinkPurpose purpose, bool counts_toward_cap) {
  issue_as(user, purpose, mail_kind_for(purpose), link_lifetime(policy_, purpose),
           counts_toward_cap);
}

void LinkIssuer::invite(const User& user) {
  issue_as(user, LinkPurpose::reset_password, MailKind::invite, policy_.invite_token_ttl_s,
           /*counts_toward_cap=*/false);
}

void LinkIssuer::issue_as(const User& user, LinkPurpose purpose, MailKind kind,
                          UnixSeconds lifetime, bool counts_toward_cap) {
  const UnixSeconds now = clock_.now();
  const std::string token = new_link_token(random_);

  // A new link supersedes the older ones of its purpose (API.md).
  tokens_.remove_all(user.id, purpose);
  EmailToken row;
  row.hash = link_token_digest(token);
  row.user_id = user.id;
  row.purpose = purpose;
  row.created_at = now;
  row.expires_at = now + lifetime;
  tokens_.insert(row);

  mail::LetterValues values;
  values.link = mail::link_url(policy_.public_base_url, purpose, token);
  values.email = user.email;
  values.valid_for = mail::lifetime_in_words(lifetime);
  const OutgoingMail mail =
      compose_mail(user, kind, values, policy_, clock_, random_, row.expires_at, counts_toward_cap);
  outbox_.enqueue(mail);
}

}  // namespace authd
