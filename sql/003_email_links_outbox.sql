-- Emails with links (verification, password reset) and their delivery.

-- Tokens of the links, kept only as SHA-256 digests. A row is deleted when
-- its token is spent or superseded by a newer link of the same purpose, so
-- a spent, superseded or never-issued token all read as "unknown".
CREATE TABLE IF NOT EXISTS email_tokens (
  token_hash BINARY(32)    NOT NULL,
  user_id    BINARY(16)    NOT NULL,
  purpose    VARBINARY(16) NOT NULL,  -- 'verify_email' or 'reset_password'
  created_at DATETIME      NOT NULL,
  expires_at DATETIME      NOT NULL,
  PRIMARY KEY (token_hash),
  KEY email_tokens_user (user_id, purpose),
  KEY email_tokens_expiry (expires_at),
  CONSTRAINT email_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- The outbox: one row per message, the whole RFC 5322 text in `message`
-- until it is sent (then NULL: the link's token does not outlive delivery
-- here). `authd mailer` claims due rows with SELECT ... FOR UPDATE SKIP
-- LOCKED and holds the row lock while it talks SMTP, so two mailers never
-- send one message, and a mailer that dies releases its row at once.
-- state: 0 pending, 1 sent, 2 abandoned (its link expired before delivery).
-- Rows stay (without a message) for a day after they finish: resend and
-- forgot count them for the per-account hourly cap.
CREATE TABLE IF NOT EXISTS mail_outbox (
  id                BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
  user_id           BINARY(16)       NOT NULL,
  kind              VARBINARY(16)    NOT NULL,
  recipient         VARBINARY(254)   NOT NULL,
  message           MEDIUMBLOB       NULL,
  counts_toward_cap TINYINT UNSIGNED NOT NULL,
  state             TINYINT UNSIGNED NOT NULL DEFAULT 0,
  created_at        DATETIME         NOT NULL,
  expires_at        DATETIME         NOT NULL,
  next_attempt_at   DATETIME         NOT NULL,
  attempts          INT UNSIGNED     NOT NULL DEFAULT 0,
  last_error        VARBINARY(255)   NULL,
  finished_at       DATETIME         NULL,
  PRIMARY KEY (id),
  KEY mail_outbox_due (state, next_attempt_at, id),
  KEY mail_outbox_user (user_id, created_at),
  KEY mail_outbox_finished (finished_at),
  CONSTRAINT mail_outbox_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Resend and forgot requests, as they arrive: one INSERT whether or not the
-- email has an account, so both answers cost the same. The mailer turns
-- each into a link and a message (or into nothing) and deletes it.
CREATE TABLE IF NOT EXISTS mail_requests (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  kind         VARBINARY(16)   NOT NULL,
  email        VARBINARY(254)  NOT NULL,
  requested_at DATETIME        NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB;
