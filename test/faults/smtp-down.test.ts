/**
 * The mail server down: issuing still answers 202 (the mail is committed to the outbox, not
 * sent in the request), the outbox retries with growing attempts, /metrics shows the
 * backlog and the failures, and once a server listens again on the same port the mail
 * arrives exactly once and its link verifies. Time is driven with the frozen clock and the
 * worker's `runOnce()`, so the backoff costs no real waiting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DevCatcher } from '../../src/mail/dev-catcher.js';
import {
  expectError,
  postVerification,
  postVerify,
  tokenOf,
  uniqueEmail,
} from '../http/api/helpers.js';
import { metricValue, scrape } from '../protection-http/support.js';
import { openTestService, type TestService } from '../support/service.js';
import { onSqliteOnly, storeKinds } from '../support/stores.js';

/** A port that was free a moment ago, with nothing listening on it now. */
async function stoppedCatcherPort(): Promise<number> {
  const probe = new DevCatcher();
  const { port } = await probe.start();
  await probe.stop();
  return port;
}

describe.each(storeKinds)('SMTP server down on $name', (kind) => {
  let t: TestService | undefined;
  let catcher: DevCatcher | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await catcher?.stop();
    catcher = undefined;
  });

  it('issues (202), retries with backoff, shows the backlog, then delivers exactly once when the server is back', async () => {
    const port = await stoppedCatcherPort();
    t = await openTestService({
      kind,
      strategy: kind.name === 'sqlite' ? 'opaque' : 'jwt',
      env: { MAILPROOF_SMTP_URL: `smtp://127.0.0.1:${port}` },
      startWorker: false,
    });
    expect(t.service.devCatcher).toBeNull();
    const { service, clock } = t;

    const email = uniqueEmail('smtp-down');
    const issued = await postVerification(t, { email });
    expect(issued.statusCode, issued.body).toBe(202);
    const { id } = issued.json() as { id: string };

    const attempts: number[] = [];
    for (let round = 0; round < 3; round++) {
      expect(await service.worker.runOnce()).toBe(1);
      const [mail] = await service.store.listMailsFor(id);
      expect(mail).toMatchObject({ state: 'pending', recipient: email });
      expect(mail!.lastError).toMatch(/ECONNREFUSED|connect/i);
      // Not due again before its backoff: nothing is claimed at the same instant.
      expect(mail!.nextAttemptAt).toBeGreaterThan(clock.now());
      expect(await service.worker.runOnce()).toBe(0);
      attempts.push(mail!.attempts);
      clock.advance(mail!.nextAttemptAt - clock.now());
    }
    expect(attempts).toEqual([1, 2, 3]);

    const metrics = await scrape(t.app);
    expect(
      metricValue(metrics, 'mailproof_outbox_depth', { state: 'pending' }),
    ).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'mailproof_outbox_depth', { state: 'dead' })).toBe(0);
    expect(metricValue(metrics, 'mailproof_mails_failed_total', { final: 'false' })).toBe(3);
    expect(metricValue(metrics, 'mailproof_mails_sent_total')).toBe(0);
    // Nothing to verify yet, and the API says so without a 500.
    expectError(await postVerify(t, 'no-mail-yet'), 400, 'invalid_token');

    catcher = new DevCatcher({ port });
    await catcher.start();
    expect(await service.worker.runOnce()).toBe(1);
    // Later rounds find nothing more to send: delivered exactly once.
    for (let round = 0; round < 3; round++) {
      clock.advance(120_000);
      expect(await service.worker.runOnce()).toBe(0);
    }
    const received = catcher.list().filter((m) => m.to.includes(email));
    expect(received).toHaveLength(1);
    const [mail] = await service.store.listMailsFor(id);
    expect(mail).toMatchObject({ state: 'sent', attempts: 4, payload: null });

    const after = await scrape(t.app);
    expect(metricValue(after, 'mailproof_outbox_depth', { state: 'pending' })).toBe(0);
    expect(metricValue(after, 'mailproof_mails_sent_total')).toBe(1);

    const verified = await postVerify(t, tokenOf(received[0]!));
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toMatchObject({ status: 'verified', id, email });
  });

  // Real time (worker polls) costs seconds; the frozen-clock test above covers both stores.
  onSqliteOnly(kind)(
    'with the worker running on real time: the backlog drains by itself once the server is back',
    async () => {
      const port = await stoppedCatcherPort();
      t = await openTestService({
        kind,
        strategy: 'opaque',
        env: { MAILPROOF_SMTP_URL: `smtp://127.0.0.1:${port}` },
      });
      const email = uniqueEmail('smtp-real');
      expect((await postVerification(t, { email })).statusCode).toBe(202);
      const start = Date.now();
      // The worker tries at once (notified by the commit) and fails.
      for (;;) {
        const failed = metricValue(await scrape(t.app), 'mailproof_mails_failed_total', {
          final: 'false',
        });
        if ((failed ?? 0) >= 1) break;
        if (Date.now() - start > 5000) throw new Error('no failed attempt within 5 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      catcher = new DevCatcher({ port });
      await catcher.start();
      // The retry is due after its backoff (at most 1 s on the frozen clock): move past it.
      t.clock.advance(2000);
      const mail = await catcher.waitFor((m) => m.to.includes(email), 5000);
      const verified = await postVerify(t, tokenOf(mail));
      expect(verified.statusCode, verified.body).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(catcher.list().filter((m) => m.to.includes(email))).toHaveLength(1);
    },
  );
});
