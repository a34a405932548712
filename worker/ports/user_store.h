#pragma once
#include <optional>
#include <string_view>

#include "ports/records.h"

namespace authd {

class UserStore {
 public:
  virtual ~UserStore() = default;

  enum class InsertResult { inserted, email_taken };
  virtual InsertResult insert(const User& user) = 0;
  virtual std::optional<User> find_by_email(std::string_view normalised_email) = 0;
  virtual std::optional<User> find_by_id(const Uuid& id) = 0;
  // Compare-and-swap: replaces the hash only while it still equals
  // `expected_hash`, so two concurrent changes cannot both win. Returns
  // whether the row changed. `changed_at` moves password_changed_at; a re-hash
  // at login passes std::nullopt and keeps it.
  virtual bool replace_password_hash(const Uuid& id, std::string_view expected_hash,
                                     std::string_view new_hash,
                                     std::optional<UnixSeconds> changed_at) = 0;
  // Operator action: disabled_at set (a time) or cleared (nullopt). Returns
  // whether the user exists.
  virtual bool set_disabled(const Uuid& id, std::optional<UnixSeconds> disabled_at) = 0;
  // A link proved the mailbox: sets email_verified_at unless already set.
  // Returns whether the row changed.
  virtual bool mark_email_verified(const Uuid& id, UnixSeconds at) = 0;
  // The user's row, locked until the transaction ends (the mailer's cap
  // count and link issue for one account are served one at a time).
  virtual std::optional<User> find_by_email_for_update(std::string_view normalised_email) = 0;
  // The same by id (closing an account: judged and deleted under the lock,
  // so a password change or a login in between is wholly before or after).
  virtual std::optional<User> find_by_id_for_update(const Uuid& id) = 0;
  // A login opened a session: last_login_at moves. Returns whether the
  // account still exists (a login racing the account's deletion must not
  // open a session for an account that is gone), and locks its row until
  // the transaction ends.
  virtual bool record_login(const Uuid& id, UnixSeconds at) = 0;
  // Deletes the account and everything that hangs on it or names its
  // email: sessions and their refresh history, the second factor, recovery
  // codes and pending second steps, passkeys (with the user handle and the
  // challenges of ceremonies under way), links, queued mail to it, pending resend
  // and forgot requests for the email, throttle counters of the email. The
  // one place that knows the whole list (a table added later joins it here).
  // Runs in the caller's transaction; returns whether the account existed.
  virtual bool erase_account(const Uuid& id, std::string_view normalised_email) = 0;
};

}  // namespace authd
