#include "auth/link_issuer.h"

#include "auth/ids.h"
#include "auth/link_token.h"
#include "mail/message.h"
#include "mail/templates.h"
#include "util/time_format.h"

namespace authd {

UnixSeconds link_lifetime(const MailPolicy& policy, LinkPurpose purpose) {
  return purpose == LinkPurpose::verify_email ? policy.verify_token_ttl_s
                                              : policy.reset_token_ttl_s;
}

OutgoingMail compose_mail(const User& user, LinkPurpose purpose, const mail::LetterValues& values,
                          const MailPolicy& policy, const Clock& clock, Random& random,
                          UnixSeconds expires_at, bool counts_toward_cap) {
  const UnixSeconds now = clock.now();
  mail::Envelope envelope;
  envelope.from_header = policy.mail_from;
  envelope.from_address = policy.mail_from_address;
  envelope.to = user.email;
  envelope.date = now;
  envelope.unique = new_random_token(random, 18);

  OutgoingMail mail;
  mail.user_id = user.id;
  mail.kind = purpose;
  mail.recipient = user.email;
  mail.message = mail::compose_message(envelope, mail::render_letter(purpose, values));
  mail.counts_toward_cap = counts_toward_cap;
  mail.created_at = now;
  mail.expires_at = expires_at;
  return mail;
}

void queue_notice(OutboxStore& outbox, const MailPolicy& policy, const Clock& clock, Random& random,
                  const User& user, LinkPurpose kind, std::string_view passkey) {
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
  const UnixSeconds now = clock_.now();
  const UnixSeconds lifetime = link_lifetime(policy_, purpose);
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
  const OutgoingMail mail = compose_mail(user, purpose, values, policy_, clock_, random_,
                                         row.expires_at, counts_toward_cap);
  outbox_.enqueue(mail);
}

}  // namespace authd
