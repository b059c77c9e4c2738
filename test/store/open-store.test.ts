import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { openStore } from '../../src/store/open-store.js';

describe('openStore', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'mailproof-open-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it.each([
    ['sqlite:PATH', (path: string) => `sqlite:${path}`],
    ['sqlite://PATH', (path: string) => `sqlite://${path}`],
  ])('opens a migrated SQLite store from %s', async (_, url) => {
    const store = await openStore(url(join(directory, 'store.db')));
    await expect(store.ping()).resolves.toBeUndefined();
    expect(await store.migrate()).toEqual({ applied: [], version: 2 });
    await store.close();
  });

  it.each(['mysql://localhost/db', 'sqlite:', 'postgres://[nope', 'data/mailproof.db'])(
    'rejects %s as a configuration error',
    async (url) => {
      const error = await openStore(url).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe('MAILPROOF_DATABASE_URL');
    },
  );
});
