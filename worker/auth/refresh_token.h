#pragma once
// Refresh tokens: base64url(session id ‖ 256 random bits). The session id
// lets a refresh lock its session row by primary key (two refreshes of one
// token queue on that lock); only the SHA-256 of a token is ever stored.
#include <optional>
#include <string>
#include <string_view>

#include "ports/random.h"
#include "ports/uuid.h"

namespace authd {

std::string new_refresh_token(const Uuid& session_id, Random& random);

// The session a well-formed token names; nullopt for anything else.
std::optional<Uuid> refresh_token_session(std::string_view token);

// SHA-256 of the token (32 raw bytes): what the database keeps.
std::string refresh_token_digest(std::string_view token);

// The grace window gives a retried refresh the same new token without
// storing it in clear: it is sealed (XSalsa20-Poly1305) under a key derived
// from the spent token, which the database does not hold (only its digest,
// from which the key cannot be derived).
std::string seal_next_refresh(std::string_view next_token, std::string_view spent_token,
                              Random& random);
std::optional<std::string> unseal_next_refresh(std::string_view sealed,
                                               std::string_view spent_token);

}  // namespace authd
