import pg from 'pg';
import { expect, it } from 'vitest';
import { startPrivatePostgres } from '../support/private-postgres.js';

it('starts, stops and restarts a private PostgreSQL', async () => {
  const server = await startPrivatePostgres();
  try {
    const query = async () => {
      const client = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 1000 });
      await client.connect();
      try {
        return (await client.query('SELECT 1 AS one')).rows[0];
      } finally {
        await client.end();
      }
    };
    expect(await query()).toEqual({ one: 1 });
    await server.stop();
    await expect(query()).rejects.toThrow();
    await server.start();
    expect(await query()).toEqual({ one: 1 });
  } finally {
    await server.destroy();
  }
});
