-- Instants are ms since the Unix epoch. Runs inside the migration transaction: no BEGIN/COMMIT here.

CREATE TABLE verifications (
  id          TEXT PRIMARY KEY,
  email       TEXT NOT NULL,
  email_key   TEXT NOT NULL,
  subject     TEXT,
  purpose     TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'revoked')),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  verified_at INTEGER,
  revoked_at  INTEGER
);

-- Supersession: the pending verifications of one subject and purpose...
CREATE INDEX verifications_subject_pending ON verifications (subject, purpose)
  WHERE status = 'pending';
-- ...or of one address and purpose when there is no subject.
CREATE INDEX verifications_email_purpose ON verifications (email_key, purpose);
-- Newest verification of an address.
CREATE INDEX verifications_email_created ON verifications (email_key, created_at);

CREATE TABLE tokens (
  key             TEXT PRIMARY KEY,
  verification_id TEXT NOT NULL REFERENCES verifications (id),
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL
);

CREATE TABLE outbox (
  id              TEXT PRIMARY KEY,
  verification_id TEXT NOT NULL REFERENCES verifications (id),
  recipient       TEXT NOT NULL,
  payload         TEXT,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  locked_until    INTEGER,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER
);

-- Claiming due mails.
CREATE INDEX outbox_claim ON outbox (state, next_attempt_at);
-- Mails of one verification.
CREATE INDEX outbox_verification ON outbox (verification_id, created_at);
