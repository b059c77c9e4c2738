import { setTimeout } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/core/errors.js';
import type { OutboxMail } from '../../src/core/ports.js';
import { openPostgresStore } from '../../src/store/postgres/open-postgres-store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { createTestDatabase, postgresAvailable } from '../support/postgres.js';
import { issue, runStoreConformance } from './store-conformance.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL store', () => {
  runStoreConformance('postgres', () => storeInScratchDatabase({}));
  // Behind a pooler that cannot keep prepared statements: every statement unnamed.
  runStoreConformance('postgres without prepared statements', () =>
    storeInScratchDatabase({ preparedStatements: false }),
  );

  describe('with several pools', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    const opened: SqlStore[] = [];

    async function open(options: { statementTimeoutMs?: number } = {}): Promise<SqlStore> {
      const store = await openPostgresStore({ url: database.url, ...options });
      opened.push(store);
      return store;
    }

    beforeEach(async () => {
      database = await createTestDatabase();
    });

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await database.drop();
    });

    it('migrates once when instances start together', async () => {
      const stores = await Promise.all([open(), open(), open(), open()]);
      for (const store of stores) {
        expect(await store.migrate()).toEqual({ applied: [], version: 2 });
      }
    });

    it('never gives two claimers the same mail', async () => {
      const [a, b] = await Promise.all([open(), open()]);
      const inputs = Array.from({ length: 200 }, (_, i) => issue({ email: `u${i}@example.com` }));
      await Promise.all(inputs.map((input) => a!.createVerification(input)));
      const now = inputs[0]!.mail.createdAt;

      async function drain(store: SqlStore): Promise<OutboxMail[]> {
        const claimed: OutboxMail[] = [];
        for (;;) {
          const batch = await store.claimMail(7, now, 60_000);
          if (batch.length === 0) return claimed;
          claimed.push(...batch);
        }
      }
      const [a1, b1, a2, b2] = await Promise.all([a!, b!, a!, b!].map(drain));
      const claimed = [a1!, b1!, a2!, b2!].flat().map((mail) => mail.id);
      expect(claimed.sort()).toEqual(inputs.map((input) => input.mail.id).sort());
      expect(a1!.length + a2!.length).toBeGreaterThan(0);
      expect(b1!.length + b2!.length).toBeGreaterThan(0);
    });

    it('reports a statement past statement_timeout as UnavailableError', async () => {
      const store = await open({ statementTimeoutMs: 200 });
      const input = issue();
      await store.createVerification(input);
      const blocker = new pg.Client({ connectionString: database.url });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM verifications WHERE id = $1 FOR UPDATE', [
          input.verification.id,
        ]);
        const started = Date.now();
        await expect(store.revoke(input.verification.id, 1)).rejects.toBeInstanceOf(
          UnavailableError,
        );
        await expect(store.addToken(input)).rejects.toBeInstanceOf(UnavailableError);
        expect(Date.now() - started).toBeLessThan(2000);
      } finally {
        await blocker.end();
      }
      expect(await store.revoke(input.verification.id, 1)).toBe(true);
    });

    it('answers already_verified to a use that waited on a concurrent claim', async () => {
      // The one-statement consume reads its snapshot from before the wait: its lookup still
      // sees the token pending though its update claimed nothing, and it must try again.
      const store = await open();
      const input = issue();
      await store.createVerification(input);
      const now = input.verification.createdAt + 1;
      const claimer = new pg.Client({ connectionString: database.url });
      await claimer.connect();
      try {
        await claimer.query('BEGIN');
        await claimer.query(
          `UPDATE verifications SET status = 'verified', verified_at = $2 WHERE id = $1`,
          [input.verification.id, now],
        );
        const waiting = store.consumeToken(input.token.key, now);
        await waitForLockWait(claimer);
        await claimer.query('COMMIT');
        expect((await waiting).kind).toBe('already_verified');
      } finally {
        await claimer.end();
      }
    });

    it('keeps working when another instance migrates a table it has statements for', async () => {
      const store = await open();
      const input = issue();
      await store.createVerification(input);
      const id = input.verification.id;
      // Every pooled connection prepares `SELECT * FROM verifications …` first.
      await Promise.all(Array.from({ length: 10 }, () => store.getVerification(id)));
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query('ALTER TABLE verifications ADD COLUMN added_later TEXT');
      await admin.end();
      const read = await Promise.all(Array.from({ length: 10 }, () => store.getVerification(id)));
      expect(read.map((record) => record?.id)).toEqual(Array(10).fill(id));
      expect(
        (await store.consumeToken(input.token.key, input.verification.createdAt + 1)).kind,
      ).toBe('verified');
    });

    it('survives the server closing idle connections', async () => {
      const store = await open();
      await Promise.all([store.ping(), store.ping(), store.ping()]);
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      await admin.end();
      await setTimeout(100);
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });

  it('rejects with UnavailableError within seconds when nothing listens', async () => {
    const started = Date.now();
    await expect(
      openPostgresStore({ url: 'postgres://postgres@127.0.0.1:1/mailproof' }),
    ).rejects.toBeInstanceOf(UnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

/** Resolves once some other session of the database waits on a lock. */
async function waitForLockWait(client: pg.Client): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const { rows } = await client.query(
      `SELECT 1 FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
    );
    if (rows.length > 0) return;
    await setTimeout(20);
  }
  throw new Error('no session ever waited on a lock');
}

/** A store over a database of its own, dropped by `cleanup`. */
async function storeInScratchDatabase(options: { preparedStatements?: boolean }) {
  const database = await createTestDatabase();
  const store = await openPostgresStore({ url: database.url, ...options });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await database.drop();
    },
  };
}
