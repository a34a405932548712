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
};

}  // namespace authd
