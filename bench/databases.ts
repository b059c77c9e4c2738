import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The store kinds the bench knows. */
export type StoreName = 'SQLite' | 'PostgreSQL';

/** A database made for one bench run, and how to throw it away. */
export interface ScratchDatabase {
  store: StoreName;
  /** `sqlite:/abs/path` or `postgres://…/mailproof_bench_…`. */
  url: string;
  drop(): Promise<void>;
}

/** The PostgreSQL server `npm run bench` uses when it answers. */
export const DEFAULT_PG_URL =
  process.env.MAILPROOF_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Which store a database URL names. */
export function storeOf(databaseUrl: string): StoreName {
  return databaseUrl.startsWith('sqlite:') ? 'SQLite' : 'PostgreSQL';
}

/**
 * A fresh SQLite file in a new folder under `parent` (default: the OS temp dir). Put it
 * beside a user's database so that it lives on the same disk.
 */
export async function scratchSqlite(parent = tmpdir()): Promise<ScratchDatabase> {
  const dir = await mkdtemp(join(parent, '.mailproof-bench-'));
  return {
    store: 'SQLite',
    url: `sqlite:${join(dir, 'bench.db')}`,
    drop: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs `work` with one client on `url`, closing it afterwards. */
async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Null when PostgreSQL answers at `url`, else why not. */
export async function postgresUnreachable(url: string): Promise<string | null> {
  try {
    await withClient(url, (client) => client.query('SELECT 1'));
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The server's version string, e.g. `15.20`. */
export function postgresVersion(url: string): Promise<string> {
  return withClient(url, async (client) => {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version ?? '?';
  });
}

/**
 * A fresh database on the server `serverUrl` points at (its own database is only connected
 * to): the bench never writes into a database it did not create. Needs CREATEDB.
 */
export async function scratchPostgres(serverUrl: string): Promise<ScratchDatabase> {
  const name = `mailproof_bench_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    store: 'PostgreSQL',
    url: url.toString(),
    drop: async () => {
      await withClient(serverUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    },
  };
}
