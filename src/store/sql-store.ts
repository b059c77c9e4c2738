import { UnavailableError } from '../core/errors.js';
import type {
  ConsumeResult,
  OutboxDepth,
  OutboxMail,
  OutboxMailInput,
  Store,
  Suspension,
  TokenRecord,
  VerificationRecord,
} from '../core/ports.js';
import { type MigrationResult, migrate } from './migrate.js';
import {
  NOT_SUSPENDED,
  type OutboxRow,
  type SuspensionRow,
  toMail,
  toSuspension,
  toVerification,
  type VerificationRow,
} from './rows.js';
import { sql } from './sql.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';

/** Options every store factory takes. */
export interface OpenSqlStoreOptions {
  /** Apply pending migrations on open (default true); when false, only check the connection. */
  migrate?: boolean;
}

/**
 * The one implementation of `Store`, written once in the SQL that SQLite and PostgreSQL
 * share; whatever differs is the driver's business. Single use and claiming are single
 * statements, so they hold across processes without any lock held in this one.
 */
export class SqlStore implements Store {
  readonly #driver: SqlDriver;

  constructor(driver: SqlDriver) {
    this.#driver = driver;
  }

  /** A store over `driver`, migrated (or pinged) before it is handed out; closed if that fails. */
  static async open(driver: SqlDriver, options: OpenSqlStoreOptions = {}): Promise<SqlStore> {
    const store = new SqlStore(driver);
    try {
      if (options.migrate ?? true) await store.migrate();
      else await store.ping();
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
    return store;
  }

  /** Applies pending migrations; safe when several processes do it at once. */
  migrate(): Promise<MigrationResult> {
    return migrate(this.#driver);
  }

  async createVerification(input: {
    verification: VerificationRecord;
    token: TokenRecord;
    mail: OutboxMailInput;
  }): Promise<{ superseded: string[] }> {
    const { verification: v, token, mail } = input;
    return this.#driver.transaction(async (tx) => {
      // Two requests racing for the same subject (or address) must not both stay pending.
      await tx.lock(supersessionKey(v));
      // Without a subject, only anonymous verifications of the address are superseded: a
      // stranger's request must not cancel the one a signed-in subject is waiting for.
      const revoked = await tx.all<{ id: string }>(
        v.subject === null
          ? sql`UPDATE verifications SET status = 'revoked', revoked_at = ${v.createdAt}
                WHERE email_key = ${v.emailKey} AND purpose = ${v.purpose}
                  AND subject IS NULL AND status = 'pending'
                RETURNING id`
          : sql`UPDATE verifications SET status = 'revoked', revoked_at = ${v.createdAt}
                WHERE subject = ${v.subject} AND purpose = ${v.purpose} AND status = 'pending'
                RETURNING id`,
      );
      await tx.run(
        sql`INSERT INTO verifications (id, email, email_key, subject, purpose, status,
              created_at, expires_at, verified_at, revoked_at)
            VALUES (${v.id}, ${v.email}, ${v.emailKey}, ${v.subject}, ${v.purpose}, ${v.status},
              ${v.createdAt}, ${v.expiresAt}, ${v.verifiedAt}, ${v.revokedAt})`,
      );
      await insertToken(tx, token);
      await insertMail(tx, mail);
      return { superseded: revoked.map((row) => row.id) };
    });
  }

  async findPendingByEmail(emailKey: string): Promise<VerificationRecord | null> {
    const [row] = await this.#driver.all<VerificationRow>(
      sql`SELECT * FROM verifications WHERE email_key = ${emailKey} AND status = 'pending'
          ORDER BY created_at DESC, id DESC LIMIT 1`,
    );
    return row ? toVerification(row) : null;
  }

  async addToken(input: { token: TokenRecord; mail: OutboxMailInput }): Promise<boolean> {
    const { token, mail } = input;
    return this.#driver.transaction(async (tx) => {
      // Writing first locks the row, so a concurrent consume waits for this to commit.
      const moved = await tx.run(
        sql`UPDATE verifications SET expires_at = ${token.expiresAt}
            WHERE id = ${token.verificationId} AND status = 'pending'`,
      );
      if (moved === 0) return false;
      await insertToken(tx, token);
      await insertMail(tx, mail);
      return true;
    });
  }

  async consumeToken(key: string, now: number): Promise<ConsumeResult> {
    const found =
      this.#driver.consumeStyle === 'read-first'
        ? await this.#readThenClaim(key, now)
        : await this.#claimOrRead(key, now);
    // Pending and unexpired, yet not claimed: another request claimed it (or the token was
    // committed) between the lookup and the update. A status never returns to pending, so
    // the next try settles it.
    return found === 'pending' ? this.consumeToken(key, now) : found;
  }

  /** `read-first`: the lookup, then the single-use update only for a usable token. */
  async #readThenClaim(key: string, now: number): Promise<ConsumeResult | 'pending'> {
    const found = await this.#classify(key, now);
    if (found !== 'pending') return found;
    const [verified] = await this.#driver.all<VerificationRow>(
      sql`UPDATE verifications SET status = 'verified', verified_at = ${now}
          WHERE id = (SELECT verification_id FROM tokens WHERE key = ${key} AND expires_at > ${now})
            AND status = 'pending'
          RETURNING *`,
    );
    if (verified) return { kind: 'verified', verification: toVerification(verified) };
    return this.#classify(key, now);
  }

  /**
   * `one-statement`: the single-use update, and what the token is when the update claims
   * nothing, in one round trip. The outer SELECT reads the snapshot from before the update,
   * so a row claimed by a concurrent request can still read as pending: the caller retries.
   */
  async #claimOrRead(key: string, now: number): Promise<ConsumeResult | 'pending'> {
    const [row] = await this.#driver.all<ClassifiedRow & { claimed: boolean }>(
      sql`WITH claimed AS (
            UPDATE verifications SET status = 'verified', verified_at = ${now}
            WHERE id = (SELECT verification_id FROM tokens
                        WHERE key = ${key} AND expires_at > ${now})
              AND status = 'pending'
            RETURNING *
          )
          SELECT TRUE AS claimed, claimed.*, NULL AS token_expires_at FROM claimed
          UNION ALL
          SELECT FALSE, v.*, t.expires_at
          FROM tokens t JOIN verifications v ON v.id = t.verification_id
          WHERE t.key = ${key} AND NOT EXISTS (SELECT 1 FROM claimed)`,
    );
    if (row?.claimed) return { kind: 'verified', verification: toVerification(row) };
    return classifyRow(row, now);
  }

  /** What a token is, read without writing: its outcome, or `pending` if it can be used. */
  async #classify(key: string, now: number): Promise<ConsumeResult | 'pending'> {
    const [row] = await this.#driver.all<ClassifiedRow>(
      sql`SELECT v.*, t.expires_at AS token_expires_at
          FROM tokens t JOIN verifications v ON v.id = t.verification_id
          WHERE t.key = ${key}`,
    );
    return classifyRow(row, now);
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const changed = await this.#driver.run(
      sql`UPDATE verifications SET status = 'revoked', revoked_at = ${now}
          WHERE id = ${id} AND status = 'pending'`,
    );
    return changed > 0;
  }

  async getVerification(id: string): Promise<VerificationRecord | null> {
    const [row] = await this.#driver.all<VerificationRow>(
      sql`SELECT * FROM verifications WHERE id = ${id}`,
    );
    return row ? toVerification(row) : null;
  }

  async claimMail(limit: number, now: number, leaseMs: number): Promise<OutboxMail[]> {
    const rows = await this.#driver.all<OutboxRow>(
      sql`UPDATE outbox SET attempts = attempts + 1, locked_until = ${now + leaseMs}
          WHERE id IN (
            SELECT id FROM outbox
            WHERE state = 'pending' AND next_attempt_at <= ${now}
              AND (locked_until IS NULL OR locked_until <= ${now})
            ORDER BY next_attempt_at
            LIMIT ${limit}${this.#driver.skipLocked})
          RETURNING *`,
    );
    // RETURNING promises no order: hand out the longest-waiting first.
    return rows.map(toMail).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
  }

  async markMailSent(id: string, now: number): Promise<void> {
    await this.#driver.run(
      sql`UPDATE outbox SET state = 'sent', sent_at = ${now}, payload = NULL, locked_until = NULL
          WHERE id = ${id}`,
    );
  }

  async markMailFailed(
    id: string,
    error: string,
    nextAttemptAt: number,
    dead: boolean,
  ): Promise<void> {
    // The lease ends with the attempt: the mail is due again at `nextAttemptAt`, not later.
    await this.#driver.run(
      dead
        ? sql`UPDATE outbox SET state = 'dead', payload = NULL, last_error = ${error},
                next_attempt_at = ${nextAttemptAt}, locked_until = NULL
              WHERE id = ${id}`
        : sql`UPDATE outbox SET state = 'pending', last_error = ${error},
                next_attempt_at = ${nextAttemptAt}, locked_until = NULL
              WHERE id = ${id}`,
    );
  }

  async getMail(id: string): Promise<OutboxMail | null> {
    const [row] = await this.#driver.all<OutboxRow>(sql`SELECT * FROM outbox WHERE id = ${id}`);
    return row ? toMail(row) : null;
  }

  async listMailsFor(verificationId: string): Promise<OutboxMail[]> {
    const rows = await this.#driver.all<OutboxRow>(
      sql`SELECT * FROM outbox WHERE verification_id = ${verificationId}
          ORDER BY created_at, id`,
    );
    return rows.map(toMail);
  }

  async outboxDepth(): Promise<OutboxDepth> {
    const rows = await this.#driver.all<{ state: 'pending' | 'dead'; count: number }>(
      sql`SELECT state, COUNT(*) AS count FROM outbox
          WHERE state IN ('pending', 'dead') GROUP BY state`,
    );
    const depth: OutboxDepth = { pending: 0, dead: 0 };
    for (const row of rows) depth[row.state] = row.count;
    return depth;
  }

  async readSuspension(): Promise<Suspension> {
    const [row] = await this.#driver.all<SuspensionRow>(
      sql`SELECT suspended, until_at, reason, auto, since FROM suspension WHERE id = 1`,
    );
    return row ? toSuspension(row) : { ...NOT_SUSPENDED };
  }

  async writeSuspension(s: Suspension): Promise<void> {
    const suspended = s.suspended ? 1 : 0;
    const auto = s.auto ? 1 : 0;
    await this.#driver.run(
      sql`INSERT INTO suspension (id, suspended, until_at, reason, auto, since)
          VALUES (1, ${suspended}, ${s.until}, ${s.reason}, ${auto}, ${s.since})
          ON CONFLICT (id) DO UPDATE SET suspended = ${suspended}, until_at = ${s.until},
            reason = ${s.reason}, auto = ${auto}, since = ${s.since}`,
    );
  }

  async ping(): Promise<void> {
    try {
      await this.#driver.all(sql`SELECT 1`);
    } catch (error) {
      throw error instanceof UnavailableError
        ? error
        : new UnavailableError('The database did not answer', { cause: error });
    }
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}

// Verifications that may supersede each other share this key.
function supersessionKey(v: VerificationRecord): string {
  const who = v.subject === null ? `email:${v.emailKey}` : `subject:${v.subject}`;
  return `supersede:${v.purpose}:${who}`;
}

function insertToken(tx: SqlExecutor, token: TokenRecord): Promise<number> {
  return tx.run(
    sql`INSERT INTO tokens (key, verification_id, created_at, expires_at)
        VALUES (${token.key}, ${token.verificationId}, ${token.createdAt}, ${token.expiresAt})`,
  );
}

// A new mail is due at once; the outbox worker sets later attempts.
function insertMail(tx: SqlExecutor, mail: OutboxMailInput): Promise<number> {
  return tx.run(
    sql`INSERT INTO outbox (id, verification_id, recipient, payload, state, attempts,
          next_attempt_at, created_at)
        VALUES (${mail.id}, ${mail.verificationId}, ${mail.recipient}, ${mail.payload}, 'pending', 0,
          ${mail.createdAt}, ${mail.createdAt})`,
  );
}

/** A verification with the expiry of the token that was looked up. */
type ClassifiedRow = VerificationRow & { token_expires_at: number };

/** A token's outcome from its looked-up row, or `pending` if it can be used. */
function classifyRow(row: ClassifiedRow | undefined, now: number): ConsumeResult | 'pending' {
  if (!row) return { kind: 'unknown' };
  const verification = toVerification(row);
  // Expiry first: an expired link reads as expired whatever became of its verification.
  if (row.token_expires_at <= now) return { kind: 'expired', verification };
  if (verification.status === 'revoked') return { kind: 'revoked', verification };
  if (verification.status === 'verified') return { kind: 'already_verified', verification };
  return 'pending';
}
