-- Passkeys (WebAuthn Level 3 public-key credentials) and the challenges of
-- their ceremonies. 006: 005 belongs to the security work (issue 17).

-- Each account's WebAuthn user handle: 32 random bytes made the first time
-- it registers a passkey and never changed (a discoverable credential
-- carries it back at login). A table of its own, so `users` is not altered.
CREATE TABLE IF NOT EXISTS passkey_user_handles (
  user_id BINARY(16) NOT NULL,
  handle  BINARY(32) NOT NULL,
  PRIMARY KEY (user_id),
  UNIQUE KEY passkey_user_handles_handle (handle),
  CONSTRAINT passkey_user_handles_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE
) ENGINE=InnoDB;

-- One row per registered passkey. The credential id is unique across all
-- accounts, indexed by its SHA-256 (ids may be up to 1023 bytes).
-- public_key is the key as libfido2 reads it back (x‖y for ES256, the
-- Ed25519 key, n‖e for RS256), alg its COSE algorithm. sign_count moves by
-- compare-and-swap only, so two workers never both accept one value.
-- created_at decides which passkeys were enrolled while the address was
-- still unverified (a password reset removes those).
CREATE TABLE IF NOT EXISTS passkeys (
  id                 BINARY(16)       NOT NULL,
  user_id            BINARY(16)       NOT NULL,
  credential_id      VARBINARY(1023)  NOT NULL,
  credential_id_hash BINARY(32)       NOT NULL,
  alg                INT              NOT NULL,
  public_key         VARBINARY(1024)  NOT NULL,
  sign_count         BIGINT UNSIGNED  NOT NULL,
  backup_eligible    TINYINT UNSIGNED NOT NULL,
  backup_state       TINYINT UNSIGNED NOT NULL,
  aaguid             BINARY(16)       NOT NULL,
  transports         VARBINARY(255)   NOT NULL,
  name               VARBINARY(256)   NOT NULL,
  created_at         DATETIME         NOT NULL,
  last_used_at       DATETIME         NULL,
  PRIMARY KEY (id),
  UNIQUE KEY passkeys_credential (credential_id_hash),
  KEY passkeys_user (user_id, created_at),
  CONSTRAINT passkeys_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Challenges of the ceremonies: 32 random bytes, kept as their SHA-256,
-- single use (taking one deletes its row: the first to delete it wins), 5
-- minutes, bound to a purpose ('register', 'login', 'mfa') and, for
-- registration and the second factor, to an account; a second factor's to
-- the mfa_token (its SHA-256) too.
CREATE TABLE IF NOT EXISTS webauthn_challenges (
  challenge_hash BINARY(32)    NOT NULL,
  purpose        VARBINARY(16) NOT NULL,
  user_id        BINARY(16)    NULL,
  mfa_token_hash BINARY(32)    NULL,
  created_at     DATETIME      NOT NULL,
  expires_at     DATETIME      NOT NULL,
  PRIMARY KEY (challenge_hash),
  KEY webauthn_challenges_expiry (expires_at),
  CONSTRAINT webauthn_challenges_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE
) ENGINE=InnoDB;
