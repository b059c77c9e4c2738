/**
 * Load shedding (@fastify/under-pressure): past MAILPROOF_MAX_EVENT_LOOP_DELAY_MS a request
 * is refused before any work with 503 `overloaded` and Retry-After (the busy page for a
 * browser), while /healthz, /readyz and /metrics still answer 200. under-pressure samples
 * the event-loop delay once a second, so the test blocks the loop (a busy-wait) and polls,
 * with a deadline, until the app says it is under pressure.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { expectError, expectPage } from '../http/api/helpers.js';
import { openTestService, type TestService } from '../support/service.js';
import { onSqliteOnly, storeKinds } from '../support/stores.js';
import {
  blockEventLoop,
  call,
  form,
  issue,
  metricValue,
  scrape,
  verify,
  waitUntil,
} from './support.js';

/**
 * Blocks the event loop in bursts (`blockMs` every 200 ms) until under-pressure's next
 * sample sees the delay; resolves as soon as it does, so the caller has most of a sample
 * interval (1 s) of shedding.
 */
async function untilShedding(app: FastifyInstance, blockMs = 100): Promise<number> {
  let blockedAt = 0;
  return waitUntil(
    5000,
    () => {
      if (app.isUnderPressure()) return true;
      if (performance.now() - blockedAt > 200) {
        blockEventLoop(blockMs);
        blockedAt = performance.now();
      }
      return false;
    },
    5,
  );
}

describe.each(storeKinds)('load shedding on $name', (kind) => {
  let t: TestService | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('sheds verify (503 overloaded, busy page) while health, readiness and metrics answer 200', async () => {
    t = await openTestService({
      kind,
      strategy: 'opaque',
      env: { MAILPROOF_MAX_EVENT_LOOP_DELAY_MS: '1' },
      startWorker: false,
    });
    const { app } = t;
    // All at once, inside the sample interval the delay was seen in; should a sample land
    // in between (a loaded machine), block and try again.
    let waitedMs = 0;
    let answers: LightMyRequestResponse[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      waitedMs += await untilShedding(app);
      answers = await Promise.all([
        verify(app, 'some-token'),
        form(app, '/verify', { token: 'some-token' }),
        call(app, 'GET', '/healthz'),
        call(app, 'GET', '/readyz'),
        call(app, 'GET', '/metrics'),
        issue(app, 'shed@example.com'),
      ]);
      if ([0, 1, 5].every((i) => answers[i]!.statusCode === 503)) break;
    }
    const [api, page, health, ready, metrics, issued] = answers as [
      LightMyRequestResponse,
      LightMyRequestResponse,
      LightMyRequestResponse,
      LightMyRequestResponse,
      LightMyRequestResponse,
      LightMyRequestResponse,
    ];
    const delay = app.memoryUsage().eventLoopDelay;
    console.info(
      `[${kind.name}] shedding after ${waitedMs} ms of blocking/polling; sampled event-loop delay ${delay.toFixed(1)} ms`,
    );

    expectError(api, 503, 'overloaded');
    expect(api.headers['retry-after']).toBe('5');
    const html = expectPage(page, 503, 'very busy');
    // Shed in onRequest, before the body is read: the page cannot offer the token again,
    // so it says to open the link in the mail again.
    expect(html).toContain('open the link in the mail again');
    expectError(issued, 503, 'overloaded');
    expect(health.statusCode).toBe(200);
    expect(ready.statusCode).toBe(200);
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('mailproof_shed_total');
    // Counted by what was over its limit: the three refused requests (per attempt).
    expect(
      metricValue(await scrape(app), 'mailproof_shed_total', { reason: 'eventLoopDelay' }),
    ).toBeGreaterThanOrEqual(3);
  });

  // These two wait on under-pressure's sampling, whatever the database: SQLite only.
  onSqliteOnly(kind)(
    'never sheds with the default limit (1000 ms) for a few hundred ms of blocking',
    async () => {
      t = await openTestService({ kind, strategy: 'opaque', startWorker: false });
      const { app } = t;
      blockEventLoop(300);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(app.isUnderPressure()).toBe(false);
      expectError(await verify(app, 'some-token'), 400, 'invalid_token');
    },
  );

  onSqliteOnly(kind)(
    'sheds past MAILPROOF_MAX_HEAP_MB too (reason heapUsedBytes), ops still answering',
    async () => {
      t = await openTestService({
        kind,
        strategy: 'opaque',
        env: { MAILPROOF_MAX_HEAP_MB: '1' },
        startWorker: false,
      });
      const { app } = t;
      await waitUntil(3000, () => app.isUnderPressure(), 20);
      expectError(await verify(app, 'some-token'), 503, 'overloaded');
      expect((await call(app, 'GET', '/healthz')).statusCode).toBe(200);
      expect(
        metricValue(await scrape(app), 'mailproof_shed_total', { reason: 'heapUsedBytes' }),
      ).toBe(1);
    },
  );
});
