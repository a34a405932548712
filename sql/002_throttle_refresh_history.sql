-- Failed-login counters, per (email, client address) and per email across
-- addresses (ip = ''), for every email tried, known or not. Keyed by the
-- SHA-256 of the normalised email: login does not validate the format, so
-- the key has a fixed size whatever was typed, and the table lists no
-- addresses in clear.
CREATE TABLE IF NOT EXISTS login_throttle (
  email_hash      BINARY(32)    NOT NULL,
  ip              VARBINARY(45) NOT NULL,
  failures        INT UNSIGNED  NOT NULL,
  last_failure_at DATETIME      NOT NULL,
  blocked_until   DATETIME      NULL,
  PRIMARY KEY (email_hash, ip),
  KEY login_throttle_age (last_failure_at)
) ENGINE=InnoDB;

-- Every refresh token a session has spent (digests only), so presenting
-- any of them again is recognised as reuse and ends the session.
CREATE TABLE IF NOT EXISTS refresh_token_history (
  token_hash BINARY(32) NOT NULL,
  session_id BINARY(16) NOT NULL,
  spent_at   DATETIME   NOT NULL,
  PRIMARY KEY (token_hash),
  KEY refresh_token_history_session (session_id),
  CONSTRAINT refresh_token_history_session_fk FOREIGN KEY (session_id)
    REFERENCES sessions (id) ON DELETE CASCADE
) ENGINE=InnoDB;
