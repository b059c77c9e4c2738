import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** One kind of store every suite above the store runs against. */
export interface StoreKind {
  name: 'sqlite' | 'postgres';
  open(): Promise<OpenedStore>;
}

const sqlite: StoreKind = {
  name: 'sqlite',
  async open() {
    const dir = await mkdtemp(join(tmpdir(), 'mailproof-test-'));
    const path = join(dir, 'mailproof.db');
    const store = await openSqliteStore({ path });
    return {
      store,
      databaseUrl: `sqlite:${path}`,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

const postgres: StoreKind = {
  name: 'postgres',
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
