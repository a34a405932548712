#pragma once
// Passkeys (WebAuthn credentials), the accounts' user handles, and the
// challenges of the ceremonies.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/clock.h"
#include "ports/uuid.h"

namespace authd {

struct Passkey {
  Uuid id;  // the server's id for it (the API's `id`), not the credential id
  Uuid user_id;
  std::string credential_id;  // raw bytes
  std::int64_t alg = 0;       // COSE algorithm
  std::string public_key;     // as webauthn::NewCredential::public_key
  std::uint32_t sign_count = 0;
  bool backup_eligible = false;  // BE at registration: synced when set
  bool backed_up = false;        // BS, as last seen
  std::string aaguid;            // 16 bytes
  std::string transports;        // comma-separated, as the browser listed them
  std::string name;
  UnixSeconds created_at = 0;
  std::optional<UnixSeconds> last_used_at;
};

enum class ChallengePurpose { registration, login, second_factor };

// The stored names of the purposes ('register', 'login', 'mfa').
std::string_view challenge_purpose_name(ChallengePurpose purpose);

struct WebAuthnChallenge {
  std::string challenge_hash;  // SHA-256 of the 32 random bytes
  ChallengePurpose purpose = ChallengePurpose::login;
  std::optional<Uuid> user_id;  // registration, second factor
  std::string mfa_token_hash;   // second factor: the mfa_token it belongs to
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
};

class PasskeyStore {
 public:
  virtual ~PasskeyStore() = default;

  // The account's user handle, made from `candidate` if it has none yet (a
  // concurrent first registration may win: its handle is returned then).
  virtual std::string user_handle(const Uuid& user_id, std::string_view candidate) = 0;
  virtual std::optional<std::string> find_user_handle(const Uuid& user_id) = 0;

  // The account's passkeys, oldest first.
  virtual std::vector<Passkey> list(const Uuid& user_id) = 0;
  virtual unsigned count(const Uuid& user_id) = 0;
  virtual std::optional<Passkey> find(const Uuid& id) = 0;
  virtual std::optional<Passkey> find_by_credential_id(std::string_view credential_id) = 0;

  // Inside a transaction: locks the account's row, then refuses a credential
  // id registered already (to anyone), then one beyond `max_per_user`, and
  // otherwise inserts. So two registrations of one account, on any workers,
  // are counted one after the other.
  enum class AddResult { added, exists, limit };
  virtual AddResult add(const Passkey& passkey, unsigned max_per_user) = 0;

  // Removes one of the account's passkeys; false when it has no such one.
  virtual bool remove(const Uuid& user_id, const Uuid& id) = 0;
  // Every passkey of the account (an operator's passkey-reset). Returns how
  // many.
  virtual int remove_all(const Uuid& user_id) = 0;
  // The passkeys enrolled while the address was unverified: created before
  // `email_verified_at`, or all of them when it never was. A password reset
  // proves the mailbox and removes these (API.md "Second factor", reset).
  virtual int remove_created_while_unverified(const Uuid& user_id,
                                              std::optional<UnixSeconds> email_verified_at) = 0;

  // A use: backup state and last use always; the counter only when
  // `new_sign_count` is given, and then by compare-and-swap: stored only if
  // the stored value is still below it. Returns false when that swap found
  // the counter already at or past it (another worker accepted it first);
  // true otherwise (the passkey gone meanwhile reads as false too).
  virtual bool record_use(const Uuid& id, std::optional<std::uint32_t> new_sign_count,
                          bool backed_up, UnixSeconds now) = 0;

  virtual void insert_challenge(const WebAuthnChallenge& challenge) = 0;
  // Spends a challenge of that purpose: its row, for the first caller only;
  // nullopt for one unknown, of another purpose, or spent. The caller judges
  // its expiry and binding.
  virtual std::optional<WebAuthnChallenge> take_challenge(std::string_view challenge_hash,
                                                          ChallengePurpose purpose) = 0;
};

}  // namespace authd
