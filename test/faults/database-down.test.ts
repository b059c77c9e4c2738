import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/service/logger.js';
import { openService } from '../../src/service/service.js';
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.js';
import { TEST_API_KEY } from '../support/service.js';

const auth = { authorization: `Bearer ${TEST_API_KEY}` };

/** Polls `check` until it holds or `ms` pass; returns how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await check()) return Date.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not within ${ms} ms`);
}

async function open(databaseUrl: string, dataDir: string, wait = false) {
  const config = loadConfig({
    MAILPROOF_DATA_DIR: dataDir,
    MAILPROOF_DATABASE_URL: databaseUrl,
    MAILPROOF_API_KEY: TEST_API_KEY,
    MAILPROOF_PUBLIC_URL: 'http://mailproof.test',
    MAILPROOF_LOG_LEVEL: 'silent',
    MAILPROOF_WAIT_FOR_DATABASE: String(wait),
  });
  const service = await openService(config, {
    logger: createLogger('silent'),
    suspendRefreshMs: 200,
  });
  const app = await buildApp(service);
  await app.ready();
  return { service, app };
}

describe('database down', () => {
  let pg: PrivatePostgres;
  let dataDir: string;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    dataDir = await mkdtemp(join(tmpdir(), 'mailproof-faults-'));
  });

  afterAll(async () => {
    await pg.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 pages and errors within seconds, stays live, and recovers with nothing lost', async () => {
    const { service, app } = await open(pg.url, dataDir);
    try {
      const issued = await app.inject({
        method: 'POST',
        url: '/v1/verifications',
        headers: auth,
        payload: { email: 'before-outage@example.com' },
      });
      expect(issued.statusCode).toBe(202);
      const mail = await service.devCatcher!.waitFor(
        (m) => m.to.includes('before-outage@example.com'),
        5000,
      );
      const token = new URL(mail.links[0]!).searchParams.get('token')!;

      await pg.stop();

      const started = Date.now();
      const api = await app.inject({ method: 'POST', url: '/v1/verify', payload: { token } });
      expect(Date.now() - started).toBeLessThan(6000);
      expect(api.statusCode).toBe(503);
      expect(api.headers['retry-after']).toBeDefined();
      expect(api.json().error.code).toBe('unavailable');

      const page = await app.inject({
        method: 'POST',
        url: '/verify',
        headers: { accept: 'text/html' },
        payload: { token },
      });
      expect(page.statusCode).toBe(503);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).toContain('<h1>');
      expect(page.headers['retry-after']).toBeDefined();

      const issue = await app.inject({
        method: 'POST',
        url: '/v1/verifications',
        headers: auth,
        payload: { email: 'during-outage@example.com' },
      });
      expect(issue.statusCode).toBe(503);

      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);

      await pg.start();
      await within(15_000, async () => {
        return (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200;
      });
      const after = await within(15_000, async () => {
        const res = await app.inject({ method: 'POST', url: '/v1/verify', payload: { token } });
        return res.statusCode === 200 && res.json().status === 'verified';
      });
      expect(after).toBeLessThan(15_000);
    } finally {
      await app.close();
      await service.close();
    }
  });

  it('starts while the database is down (wait mode), serves 503, then works once it is up', async () => {
    await pg.stop();
    const { service, app } = await open(pg.url, join(dataDir, 'second'), true);
    try {
      const page = await app.inject({
        method: 'POST',
        url: '/signup',
        headers: { accept: 'text/html' },
        payload: { email: 'early@example.com' },
      });
      expect(page.statusCode).toBe(503);
      expect(page.body).toContain('<h1>');
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);

      await pg.start();
      await within(20_000, async () => {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/verifications',
          headers: auth,
          payload: { email: 'later@example.com' },
        });
        return res.statusCode === 202;
      });
    } finally {
      await app.close();
      await service.close();
    }
  });
});
