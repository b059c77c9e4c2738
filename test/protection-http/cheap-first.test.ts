/**
 * Cheap work first: what the token strategy can refuse on its own never reaches the store.
 * A forged or malformed JWT, and an opaque token of the wrong shape, are refused with 400
 * `invalid_token` without a database call; an opaque token of the right shape can only be
 * refused by the store. With the database stopped, a forged JWT still gets its quick
 * refusal while a genuine token gets 503 `unavailable`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/service/logger.js';
import { openService } from '../../src/service/service.js';
import {
  expectError,
  forgeJwt,
  forgeOpaque,
  issueWithToken,
  uniqueEmail,
} from '../http/api/helpers.js';
import { strategyNames } from '../support/lifecycle.js';
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.js';
import { openTestService, TEST_API_KEY, type TestService } from '../support/service.js';
import { storeKinds } from '../support/stores.js';
import { codeOf, issue, timed, verify, waitUntil } from './support.js';

describe.each(storeKinds)('cheap work first on $name', (kind) => {
  describe.each(strategyNames)('%s strategy', (strategy) => {
    let t: TestService;
    beforeAll(async () => {
      t = await openTestService({ kind, strategy });
    });
    afterEach(() => {
      vi.restoreAllMocks();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('refuses what the strategy can refuse without a database call; only a plausible token reaches the store', async () => {
      const genuine = await issueWithToken(t, { email: uniqueEmail('cheap') });
      const consume = vi.spyOn(t.service.store, 'consumeToken');

      const malformed = ['x', 'a.b.c', `${'A'.repeat(43)}!`, 'é'.repeat(10), ''];
      const forged = strategy === 'jwt' ? forgeJwt(genuine.token) : forgeOpaque(genuine.token);
      for (const token of malformed) expectError(await verify(t.app, token), 400, 'invalid_token');
      expect(consume).not.toHaveBeenCalled();

      expectError(await verify(t.app, forged), 400, 'invalid_token');
      // A JWT's signature is checked before any lookup; an opaque token of the right shape
      // can only be told from a genuine one by the store.
      expect(consume).toHaveBeenCalledTimes(strategy === 'jwt' ? 0 : 1);

      const ok = await verify(t.app, genuine.token);
      expect(ok.statusCode, ok.body).toBe(200);
      expect(consume).toHaveBeenCalledTimes(strategy === 'jwt' ? 1 : 2);
    });

    it('a flood of forged tokens costs the store nothing (jwt) or one lookup each (opaque)', async () => {
      const genuine = await issueWithToken(t, { email: uniqueEmail('flood') });
      const forged = strategy === 'jwt' ? forgeJwt(genuine.token) : forgeOpaque(genuine.token);
      const consume = vi.spyOn(t.service.store, 'consumeToken');
      const { ms } = await timed(() =>
        Promise.all(Array.from({ length: 200 }, () => verify(t.app, forged))),
      );
      expect(consume).toHaveBeenCalledTimes(strategy === 'jwt' ? 0 : 200);
      console.info(`[${kind.name}/${strategy}] 200 forged verifications: ${ms} ms`);
    });
  });
});

describe('cheap work first with the database stopped (private PostgreSQL, jwt)', () => {
  let pg: PrivatePostgres;
  let dataDir: string;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    dataDir = await mkdtemp(join(tmpdir(), 'mailproof-cheap-'));
  });
  afterAll(async () => {
    await pg?.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a forged JWT is refused quickly and never reaches the store; a genuine token gets 503 unavailable', async () => {
    const config = loadConfig({
      MAILPROOF_DATA_DIR: dataDir,
      MAILPROOF_DATABASE_URL: pg.url,
      MAILPROOF_STRATEGY: 'jwt',
      MAILPROOF_API_KEY: TEST_API_KEY,
      MAILPROOF_PUBLIC_URL: 'http://mailproof.test',
      MAILPROOF_LOG_LEVEL: 'silent',
      MAILPROOF_AUTO_SUSPEND: 'off',
      MAILPROOF_RATE_LIMIT_VERIFY_FAILURES: 'off',
      MAILPROOF_RATE_LIMIT_CLIENT: 'off',
    });
    const service = await openService(config, { logger: createLogger('silent') });
    const app = await buildApp(service);
    await app.ready();
    try {
      const email = uniqueEmail('stopped');
      expect((await issue(app, email)).statusCode).toBe(202);
      const mail = await service.devCatcher!.waitFor((m) => m.to.includes(email), 5000);
      const token = new URL(mail.links[0]!).searchParams.get('token')!;
      const forged = forgeJwt(token);
      const consume = vi.spyOn(service.store, 'consumeToken');

      await pg.stop();
      // Straight away, before the load shedder's next database ping (every second).
      const first = await timed(() => verify(app, forged));
      const genuine = await timed(() => verify(app, token));
      expectError(genuine.value, 503, 'unavailable');
      expect(consume).toHaveBeenCalledTimes(1);
      expect(first.ms).toBeLessThan(500);
      expect(first.value.statusCode).not.toBe(500);
      console.info(
        `forged JWT with the database stopped: ${first.value.statusCode} ${codeOf(first.value)} in ${first.ms} ms; genuine: ${genuine.value.statusCode} ${codeOf(genuine.value)} in ${genuine.ms} ms`,
      );
      // Before the shedder notices the database is down, a forged JWT is 400 invalid_token.
      // After it, every route that needs the database is 503 unavailable before any work,
      // forged JWTs included: still without a store call.
      const shedAfter = await waitUntil(
        3000,
        async () => codeOf(await verify(app, forged)) === 'unavailable',
        20,
      );
      expect(consume).toHaveBeenCalledTimes(1);
      console.info(`the shedder answered forged JWTs 503 unavailable ${shedAfter} ms later`);
      if (first.value.statusCode !== 503) expectError(first.value, 400, 'invalid_token');
    } finally {
      await app.close();
      await service.close();
    }
  });
});
