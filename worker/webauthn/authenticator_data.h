#pragma once
// Authenticator data (WebAuthn L3 §6.1), split into its fields:
//   rpIdHash (32) | flags (1) | signCount (4, big-endian)
//   | attested credential data, when AT: aaguid (16) | L (2) | credentialId (L)
//                                         | credentialPublicKey (COSE_Key, CBOR)
//   | extensions (a CBOR map), when ED
// Parsed here because libfido2 neither reports where its contents end (so
// trailing bytes would pass) nor takes attested data without a type given
// in advance.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace authd::webauthn {

namespace flag {
inline constexpr std::uint8_t kUserPresent = 0x01;     // UP
inline constexpr std::uint8_t kUserVerified = 0x04;    // UV
inline constexpr std::uint8_t kBackupEligible = 0x08;  // BE
inline constexpr std::uint8_t kBackedUp = 0x10;        // BS
inline constexpr std::uint8_t kAttestedData = 0x40;    // AT
inline constexpr std::uint8_t kExtensionData = 0x80;   // ED
}  // namespace flag

struct AttestedCredential {
  std::string aaguid;         // 16 bytes
  std::string credential_id;  // L bytes
  std::string cose_key;       // the COSE_Key's CBOR bytes, exactly
  std::int64_t alg = 0;       // its `alg` (label 3); 0 when absent
};

struct AuthenticatorData {
  std::string rp_id_hash;  // 32 bytes
  std::uint8_t flags = 0;
  std::uint32_t sign_count = 0;
  std::optional<AttestedCredential> attested;  // when AT
  std::size_t trailing = 0;                    // bytes after the contents

  bool has(std::uint8_t f) const { return (flags & f) != 0; }
};

// Why authenticator data could not be read. Trailing bytes are not an
// error here (AuthenticatorData::trailing): the verification says so.
enum class AuthDataDefect {
  too_short,            // fewer than 37 bytes, or less than its lengths say
  no_attested_data,     // registration: AT unset
  unexpected_attested,  // assertion: AT set
  bad_public_key,       // the COSE_Key is not one well-formed CBOR map
  bad_extensions,       // ED set, but no well-formed CBOR map follows
};

std::variant<AuthenticatorData, AuthDataDefect> parse_authenticator_data(std::string_view raw,
                                                                         bool registration);

}  // namespace authd::webauthn
