-- Closing accounts and the admin API (issue 16).
-- 007: 005 and 006 belong to work on other branches (security, passkeys).

-- When a login (password, second step, passkey) last opened a session;
-- the admin API shows it. NULL until the first login.
ALTER TABLE users
  ADD COLUMN last_login_at DATETIME NULL;

-- The notice that an account was closed is queued after the account is
-- gone: its row names no account (user_id NULL) and is deleted once sent or
-- abandoned. Every other message keeps its account (and goes with it).
ALTER TABLE mail_outbox
  MODIFY COLUMN user_id BINARY(16) NULL;

-- Closing an account removes the pending resend/forgot requests for its
-- address: found by this index, not by a scan.
ALTER TABLE mail_requests
  ADD KEY mail_requests_email (email);

-- Admin API keys. Only the SHA-256 of a key is kept (a 256-bit random key
-- needs no slow or keyed hash: nobody can guess it, and the digest cannot
-- be turned back into it), and a request finds its key by that digest.
-- scopes: comma-separated ('users:read', 'users:write'). A name is unique
-- among active keys (active_name is NULL once revoked, and NULLs never
-- collide in a unique index), so a revoked name can be used again.
CREATE TABLE IF NOT EXISTS admin_keys (
  id           BINARY(16)    NOT NULL,
  name         VARBINARY(64) NOT NULL,
  key_hash     BINARY(32)    NOT NULL,
  scopes       VARBINARY(64) NOT NULL,
  created_at   DATETIME      NOT NULL,
  last_used_at DATETIME      NULL,
  revoked_at   DATETIME      NULL,
  active_name  VARBINARY(64) GENERATED ALWAYS AS (IF(revoked_at IS NULL, name, NULL)) STORED,
  PRIMARY KEY (id),
  UNIQUE KEY admin_keys_hash (key_hash),
  UNIQUE KEY admin_keys_active_name (active_name)
) ENGINE=InnoDB;
