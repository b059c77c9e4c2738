/**
 * The ports of the core: what it needs from the world. Adapters (stores, mailers, shared
 * state) implement them; the core imports nothing else of the project.
 *
 * Units: every instant is milliseconds since the Unix epoch (a JS number); every duration
 * says its unit in its name.
 */

/** The source of time. Tests pass a frozen clock instead of sleeping. */
export interface Clock {
  /** Current instant, ms since the Unix epoch. */
  now(): number;
}

/** The source of randomness. Production uses the CSPRNG; tests may pass a seeded one. */
export interface Random {
  /** `size` cryptographically strong random bytes. */
  bytes(size: number): Buffer;
}

/** Why a verification was created. */
export type Purpose = 'signup' | 'email-change';

/** The lifecycle state kept in the store (`expired` is derived from the clock). */
export type StoredStatus = 'pending' | 'verified' | 'revoked';

/** One verification: an address to prove for one subject and purpose. */
export interface VerificationRecord {
  id: string;
  /** The address as given (trimmed): mail goes here. */
  email: string;
  /** Canonical form for matching and uniqueness (domain lower-cased, IDN as punycode). */
  emailKey: string;
  subject: string | null;
  purpose: Purpose;
  status: StoredStatus;
  createdAt: number;
  /** When the newest token expires; after it a pending verification reads as expired. */
  expiresAt: number;
  verifiedAt: number | null;
  revokedAt: number | null;
}

/** A token as the store keeps it: never the token itself, only its lookup key. */
export interface TokenRecord {
  /** Strategy-defined index key: SHA-256 of an opaque token, or a JWT's `jti`. */
  key: string;
  verificationId: string;
  createdAt: number;
  expiresAt: number;
}

/** A mail to commit to the outbox in the same transaction as the change that causes it. */
export interface OutboxMailInput {
  id: string;
  verificationId: string;
  recipient: string;
  /** Sealed (encrypted) payload: it carries the token, which must never rest in clear. */
  payload: string;
  createdAt: number;
}

/** A mail in the outbox. */
export interface OutboxMail {
  id: string;
  verificationId: string;
  recipient: string;
  /** `null` once delivered or dead: the sealed token is erased. */
  payload: string | null;
  state: 'pending' | 'sent' | 'dead';
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

/** Result of the atomic single-use step, decided by the store in as few statements as it can. */
export type ConsumeResult =
  | { kind: 'verified'; verification: VerificationRecord }
  | { kind: 'already_verified'; verification: VerificationRecord }
  | { kind: 'revoked'; verification: VerificationRecord }
  | { kind: 'expired'; verification: VerificationRecord }
  | { kind: 'unknown' };

/** Counts of the outbox by state, for metrics. */
export interface OutboxDepth {
  pending: number;
  dead: number;
}

/**
 * Persistence of verifications, tokens and the mail outbox. Every method is one
 * transaction; single use and counters are single atomic statements, never
 * read-modify-write. Implementations map driver errors to `UnavailableError`.
 */
export interface Store {
  /**
   * In one transaction: revoke the pending verifications this one supersedes (same subject
   * and purpose, or same email key and purpose when `subject` is null), insert the
   * verification, its first token and its mail. Returns the ids it revoked.
   */
  createVerification(input: {
    verification: VerificationRecord;
    token: TokenRecord;
    mail: OutboxMailInput;
  }): Promise<{ superseded: string[] }>;

  /**
   * The newest verification for `emailKey` whose stored status is `pending` (expired or
   * not), or null.
   */
  findPendingByEmail(emailKey: string): Promise<VerificationRecord | null>;

  /**
   * In one transaction, only if the verification is still pending: add a token, move the
   * verification's `expiresAt` to the token's, and commit the mail. False if it was no
   * longer pending (nothing written).
   */
  addToken(input: { token: TokenRecord; mail: OutboxMailInput }): Promise<boolean>;

  /**
   * The single-use step. Looks the token up by key; if it is unexpired at `now` and its
   * verification pending, marks the verification verified at `now` atomically, so that of
   * any number of concurrent calls (any process) exactly one gets `verified`. Otherwise
   * classifies: unknown key; expired token (`expiresAt <= now`); revoked; already verified.
   */
  consumeToken(key: string, now: number): Promise<ConsumeResult>;

  /** Marks a pending verification revoked at `now`. False if not found or not pending. */
  revoke(id: string, now: number): Promise<boolean>;

  /** One verification by id, or null. */
  getVerification(id: string): Promise<VerificationRecord | null>;

  /**
   * Claims up to `limit` pending mails due at `now` for delivery, leasing them until
   * `now + leaseMs` so no other worker (any process) takes them meanwhile; increments
   * their `attempts` in the same statement.
   */
  claimMail(limit: number, now: number, leaseMs: number): Promise<OutboxMail[]>;

  /** Marks a claimed mail delivered and erases its payload. */
  markMailSent(id: string, now: number): Promise<void>;

  /**
   * Records a failed attempt: back to pending with `nextAttemptAt`, or `dead` (payload
   * erased, kept visible) when `dead` is true.
   */
  markMailFailed(id: string, error: string, nextAttemptAt: number, dead: boolean): Promise<void>;

  /** One mail by id (admin views and tests). */
  getMail(id: string): Promise<OutboxMail | null>;

  /** Mails of one verification, oldest first. */
  listMailsFor(verificationId: string): Promise<OutboxMail[]>;

  /** Outbox counts by state. */
  outboxDepth(): Promise<OutboxDepth>;

  /** The suspend switch as this database keeps it (not suspended when never set). */
  readSuspension(): Promise<Suspension>;

  /** Replaces the suspend switch in one statement. */
  writeSuspension(suspension: Suspension): Promise<void>;

  /** Resolves when the database answers; rejects with `UnavailableError` otherwise. */
  ping(): Promise<void>;

  /** Releases connections. */
  close(): Promise<void>;
}

/** A rendered mail, ready for SMTP. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends one mail; rejects when the mail server refused it or did not answer in time. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/** The suspend switch, as every instance reads it. */
export interface Suspension {
  suspended: boolean;
  /** ms since the epoch when it lifts by itself; null: until resumed. */
  until: number | null;
  reason: string | null;
  /** True when the attack detector set it, false when an operator did. */
  auto: boolean;
  /** ms since the epoch when it was set; null when not suspended. */
  since: number | null;
}

/** Where the suspend switch lives so that every instance sees one value (database or Redis). */
export interface SuspensionState {
  read(): Promise<Suspension>;
  write(suspension: Suspension): Promise<void>;
}
