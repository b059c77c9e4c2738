/**
 * Rate limits across instances: with MAILPROOF_REDIS_URL, two instances (two apps over one
 * database and one Redis) share the per-email limit exactly, concurrent requests included.
 * When Redis goes away (cut) or stops answering (frozen) at runtime, requests still answer
 * within a second, never 500, and the limits hold per instance.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectError, uniqueEmail } from '../http/api/helpers.js';
import { faultyProxy, redisAvailable } from '../protection/support/redis.js';
import { onSqliteOnly, storeKinds } from '../support/stores.js';
import {
  type Cluster,
  call,
  codeOf,
  DEFAULT,
  issue,
  metricValue,
  openCluster,
  redisDatabase,
  resend,
  scrape,
  timed,
  uniqueIp,
  waitUntil,
} from './support.js';

const redisUp = await redisAvailable();
const redis = redisDatabase(11);

describe.skipIf(!redisUp).each(storeKinds)('rate limits shared through Redis on $name', (kind) => {
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
  });
  afterAll(async () => {
    await redis.clean();
  });

  it('two instances share the per-email limit exactly: 5 in all, alternating or concurrent', async () => {
    cluster = await openCluster({
      kind,
      strategy: 'opaque',
      env: { MAILPROOF_REDIS_URL: redis.url(), MAILPROOF_RATE_LIMIT_EMAIL: DEFAULT },
      workers: [],
    });
    const a = cluster.instances[0]!.app;
    const b = cluster.instances[1]!.app;

    const email = uniqueEmail('shared');
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) {
      const app = i % 2 === 0 ? a : b;
      const res =
        i % 3 === 2 ? await resend(app, email, uniqueIp()) : await issue(app, email, uniqueIp());
      answers.push(`${i % 2 === 0 ? 'A' : 'B'}:${res.statusCode}`);
    }
    expect(answers).toEqual([
      'A:202',
      'B:202',
      'A:202',
      'B:202',
      'A:202',
      'B:429',
      'A:429',
      'B:429',
    ]);

    // 20 at once, half on each instance: exactly 5 get through.
    const burst = uniqueEmail('burst');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => issue(i % 2 === 0 ? a : b, burst, uniqueIp())),
    );
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 202)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    for (const res of results.filter((r) => r.statusCode === 429)) {
      expectError(res, 429, 'rate_limited');
    }
  });

  // Redis faults play out the same over either database: SQLite only, to keep the run short.
  onSqliteOnly(kind)(
    'Redis cut at runtime: every request answers within 1 s, never 500; the client limit holds per instance; issuing fails closed; all comes back after',
    async () => {
      proxy = await faultyProxy();
      cluster = await openCluster({
        kind,
        strategy: 'opaque',
        env: {
          MAILPROOF_REDIS_URL: redis.url(proxy.url),
          MAILPROOF_RATE_LIMIT_CLIENT: '5/60',
          MAILPROOF_RATE_LIMIT_EMAIL: DEFAULT,
        },
        workers: [],
      });
      const [a, b] = cluster.instances;
      if (!a || !b) throw new Error('two instances expected');

      // Shared before the cut: 3 on A and 2 on B spend one address's 5.
      const before = uniqueIp();
      const page = (app: typeof a.app, ip: string) =>
        call(app, 'GET', '/verify?token=abc', { ip, headers: { accept: 'text/html' } });
      const shared = [];
      for (const app of [a.app, a.app, a.app, b.app, b.app, a.app, b.app]) {
        shared.push((await page(app, before)).statusCode);
      }
      expect(shared).toEqual([200, 200, 200, 200, 200, 429, 429]);

      proxy.cut();
      const slowest = { ms: 0 };
      const observe = async <T>(work: () => Promise<T>) => {
        const { value, ms } = await timed(work);
        slowest.ms = Math.max(slowest.ms, ms);
        return value;
      };

      // Per instance: a fresh address gets 5 on A and 5 more on B (N instances: N times the limit).
      const during = uniqueIp();
      for (const instance of [a, b]) {
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) {
          statuses.push((await observe(() => page(instance.app, during))).statusCode);
        }
        expect(statuses, instance.name).toEqual([200, 200, 200, 200, 200, 429]);
      }

      // The suspend switch lives in Redis too: once its next read fails, issuing fails closed.
      // Each instance notices at its own next read (every second).
      const closedAfter = await waitUntil(3000, async () => {
        const answers = await Promise.all(
          [a, b].map((i) => observe(() => issue(i.app, uniqueEmail('cut'), uniqueIp()))),
        );
        for (const res of answers) expect(res.statusCode).not.toBe(500);
        return answers.every((res) => res.statusCode === 503);
      });
      for (const res of [
        await observe(() => issue(a.app, uniqueEmail('cut'), uniqueIp())),
        await observe(() => resend(b.app, uniqueEmail('cut'), uniqueIp())),
        await observe(() =>
          call(b.app, 'POST', '/v1/verify', { ip: uniqueIp(), payload: { token: 'x' } }),
        ),
      ]) {
        expectError(res, 503, 'unavailable');
      }
      expect((await observe(() => call(a.app, 'GET', '/healthz'))).statusCode).toBe(200);
      expect(slowest.ms).toBeLessThan(1000);
      const metrics = await scrape(a.app);
      expect(
        metricValue(metrics, 'mailproof_rate_limit_store_failures_total', { limit: 'client' }),
      ).toBeGreaterThan(0);

      proxy.restore();
      const recoveredAfter = await waitUntil(
        8000,
        async () => (await issue(b.app, uniqueEmail('back'), uniqueIp())).statusCode === 202,
        50,
      );
      // Shared again: the address spent before the cut is still refused on both.
      expect((await page(a.app, before)).statusCode).toBe(429);
      expect((await page(b.app, before)).statusCode).toBe(429);
      console.info(
        `[${kind.name}] Redis cut: slowest answer ${slowest.ms} ms; issuing refused ${closedAfter} ms after the cut; back ${recoveredAfter} ms after restore`,
      );
    },
  );

  onSqliteOnly(kind)(
    'Redis frozen (connected, silent): answers come within 1 s, never 500',
    async () => {
      proxy = await faultyProxy();
      cluster = await openCluster({
        kind,
        strategy: 'opaque',
        count: 1,
        env: {
          MAILPROOF_REDIS_URL: redis.url(proxy.url),
          MAILPROOF_RATE_LIMIT_CLIENT: '5/60',
          MAILPROOF_RATE_LIMIT_EMAIL: DEFAULT,
          MAILPROOF_RATE_LIMIT_VERIFY_FAILURES: DEFAULT,
        },
        workers: [],
      });
      const { app } = cluster.instances[0]!;
      proxy.freeze();
      const ip = uniqueIp();
      const answers: string[] = [];
      let slowest = 0;
      for (let i = 0; i < 6; i++) {
        const { value, ms } = await timed(() =>
          call(app, 'GET', '/verify?token=abc', { ip, headers: { accept: 'text/html' } }),
        );
        slowest = Math.max(slowest, ms);
        answers.push(String(value.statusCode));
      }
      expect(answers).toEqual(['200', '200', '200', '200', '200', '429']);
      for (let i = 0; i < 4; i++) {
        const { value, ms } = await timed(() => issue(app, uniqueEmail('frozen'), uniqueIp()));
        slowest = Math.max(slowest, ms);
        expect(value.statusCode).not.toBe(500);
        expect([202, 503]).toContain(value.statusCode);
        if (value.statusCode === 503) expect(codeOf(value)).toBe('unavailable');
      }
      expect(slowest).toBeLessThan(1000);
      console.info(`[${kind.name}] Redis frozen: slowest answer ${slowest} ms`);
    },
  );
});
