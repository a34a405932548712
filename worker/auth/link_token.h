#pragma once
// The tokens in emailed links: 256 random bits, base64url (43 characters,
// URL-safe, so they sit in a link's fragment as they are). Only their
// SHA-256 is stored: a database reader cannot use a link.
#include <string>
#include <string_view>

#include "ports/random.h"

namespace authd {

std::string new_link_token(Random& random);

// Whether `token` has the shape of one we issue; anything else is refused
// without asking the database.
bool is_link_token_shape(std::string_view token);

// SHA-256 of the token (32 raw bytes): what the database keeps.
std::string link_token_digest(std::string_view token);

}  // namespace authd
