#include "auth/link_issuer.h"

#include "auth/ids.h"
#include "auth/link_token.h"
#include "mail/message.h"
#include "mail/templates.h"

namespace authd {

UnixSeconds link_lifetime(const MailPolicy& policy, LinkPurpose purpose) {
  return purpose == LinkPurpose::verify_email ? policy.verify_token_ttl_s
                                              : policy.reset_token_ttl_s;
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
  mail::Envelope envelope;
  envelope.from_header = policy_.mail_from;
  envelope.from_address = policy_.mail_from_address;
  envelope.to = user.email;
  envelope.date = now;
  envelope.unique = new_random_token(random_, 18);

  OutgoingMail mail;
  mail.user_id = user.id;
  mail.kind = purpose;
  mail.recipient = user.email;
  mail.message = mail::compose_message(envelope, mail::render_letter(purpose, values));
  mail.counts_toward_cap = counts_toward_cap;
  mail.created_at = now;
  mail.expires_at = row.expires_at;
  outbox_.enqueue(mail);
}

}  // namespace authd
