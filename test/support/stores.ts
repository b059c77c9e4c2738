import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { openPostgresStore } from '../../src/store/postgres/open-postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import { createTestDatabase, postgresAvailable } from './postgres.js';

/** A store opened for one test: its database URL, and how to throw it all away. */
export interface OpenedStore {
  store: Store;
  databaseUrl: string;
  cleanup(): Promise<void>;
}

/** An empty database of one kind, not opened: for tests that start services on it. */
export interface PreparedDatabase {
  databaseUrl: string;
  drop(): Promise<void>;
}

/** One kind of store every suite above the store runs against. */
export interface StoreKind {
  name: 'sqlite' | 'postgres';
  /** A fresh empty database and its URL. */
  prepare(): Promise<PreparedDatabase>;
  /** A fresh database, opened and migrated. */
  open(): Promise<OpenedStore>;
}

const sqlite: StoreKind = {
  name: 'sqlite',
  async prepare() {
    const dir = await mkdtemp(join(tmpdir(), 'mailproof-test-'));
    return {
      databaseUrl: `sqlite:${join(dir, 'mailproof.db')}`,
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  },
  async open() {
    const database = await this.prepare();
    const store = await openSqliteStore({ path: database.databaseUrl.slice('sqlite:'.length) });
    return {
      store,
      databaseUrl: database.databaseUrl,
      cleanup: async () => {
        await store.close();
        await database.drop();
      },
    };
  },
};

const postgres: StoreKind = {
  name: 'postgres',
  async prepare() {
    const database = await createTestDatabase();
    return { databaseUrl: database.url, drop: database.drop };
  },
  async open() {
    const database = await createTestDatabase();
    const store = await openPostgresStore({ url: database.url });
    return {
      store,
      databaseUrl: database.url,
      cleanup: async () => {
        await store.close();
        await database.drop();
      },
    };
  },
};

/**
 * Every store this machine can run: PostgreSQL joins when it answers (and must, under
 * `CI=true`: `postgresAvailable` fails the run rather than skipping).
 */
export const storeKinds: StoreKind[] = (await postgresAvailable()) ? [sqlite, postgres] : [sqlite];

/**
 * `it` on SQLite, nothing elsewhere: for a test inside a per-store suite whose subject does
 * not depend on the store (timers, Redis, SMTP), run once to save time rather than reported
 * as skipped on the others.
 */
export function onSqliteOnly(kind: StoreKind): typeof it {
  return kind.name === 'sqlite' ? it : ((() => {}) as unknown as typeof it);
}
