#include "auth/ids.h"

#include "util/base64url.h"

namespace authd {

Uuid new_uuid_v7(const Clock& clock, Random& random) {
  Uuid id;
  random.fill(id.bytes);
  auto ms = static_cast<std::uint64_t>(clock.now_ms());
  for (int i = 0; i < 6; ++i)
    id.bytes[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  id.bytes[6] = static_cast<std::uint8_t>(0x70 | (id.bytes[6] & 0x0f));  // version 7
  id.bytes[8] = static_cast<std::uint8_t>(0x80 | (id.bytes[8] & 0x3f));  // variant 10
  return id;
}

std::string new_random_token(Random& random, std::size_t bytes) {
  return base64url_encode(random.bytes(bytes));
}

User new_account(std::string normalised_email, std::string password_hash, const Clock& clock,
                 Random& random) {
  User user;
  user.password_hash = std::move(password_hash);
  user.id = new_uuid_v7(clock, random);
  user.email = std::move(normalised_email);
  user.created_at = clock.now();
  user.password_changed_at = user.created_at;
  return user;
}

}  // namespace authd
