import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server tests use; its database is only connected to, never written. */
const adminUrl = process.env.MAILPROOF_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Whether PostgreSQL tests can run. Without a server they are skipped with the reason
 * printed, except under `CI=true`, where a missing server fails the run instead.
 */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await withAdmin((client) => client.query('SELECT 1'));
    return true;
  } catch (error) {
    const reason = `PostgreSQL at ${new URL(adminUrl).host} unreachable (${String(error)}); set MAILPROOF_TEST_PG_URL`;
    if (process.env.CI === 'true') throw new Error(reason, { cause: error });
    console.warn(`Skipping PostgreSQL tests: ${reason}`);
    return false;
  }
}

/** A fresh, empty database for one test, and a way to drop it (closing stray connections). */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `mailproof_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => {},
      ),
  };
}
