-- Accounts and the sessions that logins open.
-- Emails are stored normalised and compared as bytes (VARBINARY), so the
-- server's collation never decides that two addresses are one account.
-- Times are UTC, written by the application (never NOW(), whose time zone is
-- the server's).
CREATE TABLE IF NOT EXISTS users (
  id                  BINARY(16)     NOT NULL,
  email               VARBINARY(254) NOT NULL,
  password_hash       VARBINARY(255) NOT NULL,
  created_at          DATETIME       NOT NULL,
  password_changed_at DATETIME       NOT NULL,
  disabled_at         DATETIME       NULL,
  email_verified_at   DATETIME       NULL,
  PRIMARY KEY (id),
  UNIQUE KEY users_email (email)
) ENGINE=InnoDB;

-- One row per login. A token is accepted only while its session is live
-- (not revoked, not past expires_at, used within the idle lifetime), so
-- revocation is one row update. Refresh tokens name their session (a
-- refresh locks this row by primary key) and are kept only as SHA-256
-- digests; next_refresh_sealed lets a retry inside the grace window get the
-- same new token back without it ever being stored in clear (it is sealed
-- under a key derived from the previous token, which only the client has).
CREATE TABLE IF NOT EXISTS sessions (
  id                  BINARY(16)     NOT NULL,
  user_id             BINARY(16)     NOT NULL,
  created_at          DATETIME       NOT NULL,
  last_used_at        DATETIME       NOT NULL,
  expires_at          DATETIME       NOT NULL,
  auth_time           DATETIME       NOT NULL,
  revoked_at          DATETIME       NULL,
  amr                 VARBINARY(32)  NOT NULL,
  user_agent          VARBINARY(512) NOT NULL,
  ip                  VARBINARY(45)  NOT NULL,
  refresh_hash        BINARY(32)     NULL,
  prev_refresh_hash   BINARY(32)     NULL,
  next_refresh_sealed VARBINARY(128) NULL,
  rotated_at          DATETIME       NULL,
  PRIMARY KEY (id),
  KEY sessions_user (user_id, revoked_at),
  CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;
