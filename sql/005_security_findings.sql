-- Issue 17 (security findings from an outside review).
--
-- Finding 13: one pending resend/forgot request per (kind, email). A repeat
-- adds nothing (MysqlMailRequestStore::add: INSERT IGNORE), so a flood
-- of requests for one address costs one row, and the queue is capped
-- (MAIL_REQUEST_QUEUE_MAX) by the insert itself. Repeats already queued are
-- folded into their oldest request first.
DELETE newer FROM mail_requests AS newer
  JOIN mail_requests AS older
    ON older.kind = newer.kind AND older.email = newer.email AND older.id < newer.id;
ALTER TABLE mail_requests ADD UNIQUE KEY mail_requests_kind_email (kind, email);

-- Finding 16 needs no DDL: TOTP secrets are sealed with their user id as
-- associated data (XChaCha20-Poly1305, a version byte in front, 61 bytes
-- for a 160-bit secret: the VARBINARY(128) columns hold it). A migration
-- cannot re-seal the old ones (it has no key); `authd serve` does at start
-- (worker/auth/reseal.h).
