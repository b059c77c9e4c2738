import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/core/errors.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import { issue, runStoreConformance } from './store-conformance.js';

async function tempDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'mailproof-sqlite-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

runStoreConformance('sqlite', async () => {
  const directory = await tempDirectory();
  const store = await openSqliteStore({ path: join(directory.path, 'store.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await directory.remove();
    },
  };
});

describe('SQLite store', () => {
  let directory: Awaited<ReturnType<typeof tempDirectory>>;

  beforeEach(async () => {
    directory = await tempDirectory();
  });

  afterEach(async () => {
    await directory.remove();
  });

  it('creates the folder, runs migrations once, and reopens without applying any', async () => {
    const path = join(directory.path, 'nested', 'store.db');
    const first = await openSqliteStore({ path, migrate: false });
    expect(await first.migrate()).toEqual({ applied: [1, 2], version: 2 });
    await first.close();

    const second = await openSqliteStore({ path });
    expect(await second.migrate()).toEqual({ applied: [], version: 2 });
    await second.close();
  });

  it('reports a database locked past busy_timeout as UnavailableError', async () => {
    const path = join(directory.path, 'store.db');
    const store = await openSqliteStore({ path, busyTimeoutMs: 50 });
    const input = issue();
    await store.createVerification(input);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(store.revoke(input.verification.id, 1)).rejects.toBeInstanceOf(UnavailableError);
      await expect(store.createVerification(issue())).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    // The failed transaction left the connection usable.
    expect(await store.revoke(input.verification.id, 1)).toBe(true);
    await store.close();
  });
});
