/**
 * The suspend switch across instances with MAILPROOF_REDIS_URL: a suspension (or resume)
 * on instance A reaches instance B within its refresh interval (measured against 2 s), and
 * while the state cannot be read (Redis cut) issuing and verifying fail closed with 503
 * `unavailable` (the page saying so for browsers) instead of going on unprotected.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectPage, nextMail, tokenOf, uniqueEmail } from '../http/api/helpers.js';
import { faultyProxy, redisAvailable } from '../protection/support/redis.js';
import type { TestService } from '../support/service.js';
import { storeKinds } from '../support/stores.js';
import {
  adminState,
  auth,
  type Cluster,
  call,
  codeOf,
  form,
  type Instance,
  issue,
  openCluster,
  redisDatabase,
  timed,
  verify,
  waitUntil,
} from './support.js';

const redisUp = await redisAvailable();
const redis = redisDatabase(12);

/** `nextMail` wants a TestService; it reads only `service.devCatcher`. */
async function tokenFor(instance: Instance, email: string): Promise<string> {
  return tokenOf(await nextMail({ service: instance.service } as TestService, email));
}

/**
 * The switch lives in Redis here, so the database kind plays no part: SQLite only (the
 * per-email suite in rate-limits-redis runs instances over PostgreSQL too).
 */
const kinds = storeKinds.filter((kind) => kind.name === 'sqlite');

describe.skipIf(!redisUp).each(kinds)('suspend switch through Redis on $name', (kind) => {
  let cluster: Cluster | undefined;
  let proxy: Awaited<ReturnType<typeof faultyProxy>> | undefined;

  beforeAll(async () => {
    await redis.clean();
  });
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
    await proxy?.close();
    proxy = undefined;
    await redis.clean();
  });
  afterAll(async () => {
    await redis.clean();
  });

  it('a suspension on A reaches B within 2 s (B re-reads every second), and so does the resume', async () => {
    cluster = await openCluster({
      kind,
      strategy: 'opaque',
      env: { MAILPROOF_REDIS_URL: redis.url() },
    });
    const [a, b] = cluster.instances as [Instance, Instance];
    const suspendMs: number[] = [];
    const resumeMs: number[] = [];

    for (let round = 0; round < 2; round++) {
      const email = uniqueEmail(`round${round}`);
      expect((await issue(a.app, email)).statusCode).toBe(202);
      const token = await tokenFor(a, email);

      const suspended = await call(a.app, 'POST', '/v1/admin/suspend', {
        headers: auth,
        payload: { reason: `drill ${round}`, seconds: 600 },
      });
      expect(suspended.statusCode, suspended.body).toBe(200);
      // A refuses at once: the change was made there.
      expectError(await verify(a.app, token), 503, 'suspended');
      suspendMs.push(
        // Probed with a token that names nothing: B must not consume the real one while open.
        await waitUntil(3000, async () => codeOf(await verify(b.app, 'probe')) === 'suspended', 5),
      );
      expectError(await issue(b.app, uniqueEmail('b')), 503, 'suspended');
      expectPage(await form(b.app, '/verify', { token }), 503, 'paused');
      const state = await adminState(b.app);
      expect(state.json()).toMatchObject({
        suspended: true,
        reason: `drill ${round}`,
        auto: false,
      });

      expect((await call(b.app, 'POST', '/v1/admin/resume', { headers: auth })).statusCode).toBe(
        200,
      );
      resumeMs.push(
        await waitUntil(
          3000,
          async () => codeOf(await verify(a.app, 'probe')) === 'invalid_token',
          5,
        ),
      );
      const verified = await verify(a.app, token);
      expect(verified.statusCode, verified.body).toBe(200);
      expect(verified.json().status).toBe('verified');
    }
    console.info(
      `[${kind.name}] suspend A→B: ${suspendMs.join(', ')} ms; resume B→A: ${resumeMs.join(', ')} ms`,
    );
    for (const ms of [...suspendMs, ...resumeMs]) expect(ms).toBeLessThanOrEqual(2000);
  });

  it('fails closed while the state cannot be read: issue and verify answer 503 unavailable (page and JSON), never 200, then recover', async () => {
    proxy = await faultyProxy();
    cluster = await openCluster({
      kind,
      strategy: 'opaque',
      count: 1,
      env: { MAILPROOF_REDIS_URL: redis.url(proxy.url) },
    });
    const a = cluster.instances[0]!;
    const email = uniqueEmail('closed');
    expect((await issue(a.app, email)).statusCode).toBe(202);
    const token = await tokenFor(a, email);

    proxy.cut();
    const noticedMs = await waitUntil(
      3000,
      async () => codeOf(await issue(a.app, uniqueEmail('cut'))) === 'unavailable',
      5,
    );
    expectError(await issue(a.app, uniqueEmail('cut')), 503, 'unavailable');
    expectError(await verify(a.app, token), 503, 'unavailable');
    expectError(
      await call(a.app, 'POST', '/v1/resend', { payload: { email } }),
      503,
      'unavailable',
    );
    const page = expectPage(await form(a.app, '/verify', { token }), 503);
    expect(page).toContain('isn’t working');
    // The token was kept on the page, to try again once the state is readable.
    expect(page).toContain(token);
    expectPage(await form(a.app, '/signup', { email: uniqueEmail('cut') }), 503);

    proxy.restore();
    const recoveredMs = await waitUntil(
      8000,
      async () => (await verify(a.app, token)).statusCode === 200,
      50,
    );
    console.info(
      `[${kind.name}] Redis cut: switch read as unknown after ${noticedMs} ms; verify back ${recoveredMs} ms after restore`,
    );
  });

  // While the state cannot be reached, admin calls are a dependency being down, not a bug.
  it('answers the admin state and suspend calls with 503 unavailable (not 500) while Redis is cut', async () => {
    proxy = await faultyProxy();
    cluster = await openCluster({
      kind,
      strategy: 'opaque',
      count: 1,
      workers: [],
      env: { MAILPROOF_REDIS_URL: redis.url(proxy.url) },
    });
    const { app } = cluster.instances[0]!;
    proxy.cut();
    await waitUntil(3000, async () => codeOf(await verify(app, 'probe')) === 'unavailable', 5);
    const state = await timed(() => adminState(app));
    const suspend = await timed(() =>
      call(app, 'POST', '/v1/admin/suspend', { headers: auth, payload: { reason: 'x' } }),
    );
    console.info(
      `[${kind.name}] Redis cut: GET /v1/admin/state ${state.value.statusCode} ${codeOf(state.value)} in ${state.ms} ms; POST /v1/admin/suspend ${suspend.value.statusCode} ${codeOf(suspend.value)} in ${suspend.ms} ms`,
    );
    expect(state.ms).toBeLessThan(1000);
    expect(suspend.ms).toBeLessThan(1000);
    expectError(state.value, 503, 'unavailable');
    expectError(suspend.value, 503, 'unavailable');
  });
});
