#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/clock.h"

namespace authd {

// The claims of an access token (API.md, "Access token").
struct AccessClaims {
  std::string sub;  // user id
  std::string email;
  // Whether the address was verified when the token was issued: a service
  // that authorises by email must demand it (finding 3 of issue 17).
  bool email_verified = false;
  std::string sid;  // session id
  std::string jti;
  std::vector<std::string> amr;
  UnixSeconds iat = 0;
  UnixSeconds nbf = 0;
  UnixSeconds exp = 0;
  UnixSeconds auth_time = 0;
};

class TokenSigner {
 public:
  virtual ~TokenSigner() = default;
  virtual std::string sign(const AccessClaims& claims) = 0;
  // Signature with the pinned algorithm and key, `typ`, `iss`, `aud`, every
  // required claim, and `exp`/`nbf` against `now` (with the allowed skew).
  // nullopt for any failure: the caller answers `401 invalid_token` whatever
  // the reason, so the reason is not returned.
  virtual std::optional<AccessClaims> verify(std::string_view token, UnixSeconds now) = 0;
};

}  // namespace authd
