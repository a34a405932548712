#pragma once
// Tokens of the links sent by email. Only a digest of each token is stored;
// the token itself exists in the message and in the recipient's mailbox.
#include <optional>
#include <string>
#include <string_view>

#include "ports/clock.h"
#include "ports/uuid.h"

namespace authd {

// What a link is for. Each purpose has its own tokens: a reset token does
// not verify an email, and a new link supersedes the older ones of its
// purpose only. (The messages themselves, links or notices, are MailKind:
// ports/outbox_store.h.)
enum class LinkPurpose { verify_email, reset_password };

// The stored names of the purposes ('verify_email', 'reset_password').
std::string_view purpose_name(LinkPurpose purpose);
std::optional<LinkPurpose> purpose_from_name(std::string_view name);

struct EmailToken {
  std::string hash;  // SHA-256 of the token, 32 raw bytes
  Uuid user_id;
  LinkPurpose purpose = LinkPurpose::verify_email;
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
};

class EmailTokenStore {
 public:
  virtual ~EmailTokenStore() = default;

  virtual void insert(const EmailToken& token) = 0;
  // The token's row, locked until the transaction ends (two uses of one
  // token are served one after the other; the second finds it gone).
  virtual std::optional<EmailToken> find_for_update(std::string_view hash) = 0;
  virtual std::optional<EmailToken> find(std::string_view hash) = 0;
  // Spends one token; false when it was already gone.
  virtual bool remove(std::string_view hash) = 0;
  // Every token of that purpose for the user (superseded, or void after a
  // reset). Returns how many were removed.
  virtual int remove_all(const Uuid& user_id, LinkPurpose purpose) = 0;
  // Housekeeping: tokens that expired before `before`.
  virtual int purge_expired(UnixSeconds before) = 0;
};

}  // namespace authd
