#pragma once
#include <string>

#include "ports/clock.h"
#include "ports/random.h"
#include "ports/records.h"
#include "ports/uuid.h"

namespace authd {

// RFC 9562 version 7: 48-bit Unix milliseconds, then random bits, so ids sort
// by creation time (index locality, "ties broken by creation order").
Uuid new_uuid_v7(const Clock& clock, Random& random);

// A random opaque identifier of `bytes` bytes, base64url (jti, tokens).
std::string new_random_token(Random& random, std::size_t bytes);

// A new account's row: a fresh id, created (and its password set) now.
User new_account(std::string normalised_email, std::string password_hash, const Clock& clock,
                 Random& random);

}  // namespace authd
