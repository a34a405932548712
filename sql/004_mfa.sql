-- A second factor: TOTP (RFC 6238) with single-use recovery codes.
-- The TOTP secret is kept only sealed (libsodium secretbox under
-- MFA_ENCRYPTION_KEY); totp_last_step is the last time step accepted, so a
-- code is accepted once, across workers and hosts (compare-and-swap).
-- 004 rather than 003: the email work (issue 7) adds its own migration.
ALTER TABLE users
  ADD COLUMN mfa_enabled_at      DATETIME       NULL,
  ADD COLUMN totp_secret_sealed  VARBINARY(128) NULL,
  ADD COLUMN totp_pending_sealed VARBINARY(128) NULL,
  ADD COLUMN totp_last_step      BIGINT         NULL;

-- Recovery codes, stored as Argon2id PHC strings (they carry less than 112
-- bits, so ASVS 5.0 6.5.2 asks for a salted password hash), one row each.
CREATE TABLE IF NOT EXISTS mfa_recovery_codes (
  user_id   BINARY(16)     NOT NULL,
  slot      INT UNSIGNED   NOT NULL,
  code_hash VARBINARY(255) NOT NULL,
  used_at   DATETIME       NULL,
  PRIMARY KEY (user_id, slot),
  CONSTRAINT mfa_recovery_codes_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE
) ENGINE=InnoDB;

-- The second step of a login: the mfa_token (SHA-256 only), bound to the
-- user and the client address it was issued to, spent by a success.
CREATE TABLE IF NOT EXISTS mfa_challenges (
  token_hash BINARY(32)    NOT NULL,
  user_id    BINARY(16)    NOT NULL,
  ip         VARBINARY(45) NOT NULL,
  created_at DATETIME      NOT NULL,
  expires_at DATETIME      NOT NULL,
  spent_at   DATETIME      NULL,
  PRIMARY KEY (token_hash),
  KEY mfa_challenges_user (user_id),
  CONSTRAINT mfa_challenges_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE
) ENGINE=InnoDB;
