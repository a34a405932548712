#pragma once
// The cursor of GET /admin/users: opaque to clients, made and read only by
// this server. It holds the id of the last account of a page (pages go
// newest first by id, and ids are UUIDv7, so "ids below this one" never
// repeats or skips an account that exists throughout, whatever is added or
// deleted meanwhile) and a MAC over that id and the search it belongs to,
// under a key derived from SECRET_KEY: a cursor this server did not make,
// or made for another search, is refused.
#include <optional>
#include <string>
#include <string_view>

#include "ports/uuid.h"

namespace authd {

class AdminCursor {
 public:
  // `secret`: SECRET_KEY (the cursor key is derived from it, never it).
  explicit AdminCursor(std::string_view secret);

  // `search`: what identifies the search (see search_fingerprint).
  std::string make(const Uuid& last, std::string_view search) const;
  std::optional<Uuid> read(std::string_view cursor, std::string_view search) const;

  static std::string search_fingerprint(std::string_view email, bool prefix);

 private:
  std::string mac(const Uuid& last, std::string_view search) const;
  std::string key_;
};

}  // namespace authd
