/**
 * The suspend switch: POST /v1/admin/suspend and /resume, GET /v1/admin/state, and what
 * every issuing, verifying and resending route answers while suspended (503 `suspended`
 * with Retry-After, as JSON or as the paused page).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../../src/http/app.js';
import { createLogger } from '../../../src/service/logger.js';
import { openService, type Service } from '../../../src/service/service.js';
import { strategyNames } from '../../support/lifecycle.js';
import { openTestService, type TestService } from '../../support/service.js';
import { storeKinds } from '../../support/stores.js';
import {
  expectError,
  expectPage,
  expectRetryAfter,
  hiddenToken,
  ISO,
  issueWithToken,
  postForm,
  postResend,
  postVerification,
  postVerify,
  uniqueEmail,
} from './helpers.js';

describe.each(storeKinds)('admin API on $name', (kind) => {
  describe.each(strategyNames)('%s strategy', (strategy) => {
    let t: TestService;
    const suspend = (payload?: unknown) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/admin/suspend',
        headers: t.auth,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const resume = () => t.app.inject({ method: 'POST', url: '/v1/admin/resume', headers: t.auth });
    const state = () => t.app.inject({ method: 'GET', url: '/v1/admin/state', headers: t.auth });

    beforeAll(async () => {
      t = await openTestService({ kind, strategy });
    });
    afterEach(async () => {
      await resume();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('reports not suspended at first', async () => {
      const res = await state();
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        suspended: false,
        until: null,
        reason: null,
        auto: false,
      });
    });

    it('suspends with a reason and seconds: 200 {suspended, until, reason}, and the state says so', async () => {
      const res = await suspend({ reason: 'credential stuffing', seconds: 600 });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['reason', 'suspended', 'until']);
      expect(body.suspended).toBe(true);
      expect(body.reason).toBe('credential stuffing');
      expect(body.until).toMatch(ISO);
      expect(Date.parse(body.until)).toBe(t.clock.now() + 600_000);

      const read = await state();
      expect(read.statusCode).toBe(200);
      expect(read.json()).toMatchObject({
        suspended: true,
        until: body.until,
        reason: 'credential stuffing',
        auto: false,
      });
    });

    it('suspends without seconds until resumed (until null), with {} or an empty body', async () => {
      for (const payload of [{}, undefined, null]) {
        const res = await suspend(payload);
        expect(res.statusCode, `${JSON.stringify(payload)}: ${res.body}`).toBe(200);
        expect(res.json()).toEqual({ suspended: true, until: null, reason: null });
        expect((await state()).json()).toMatchObject({ suspended: true, until: null });
        await resume();
      }
    });

    it('refuses issuing, verifying and resending with 503 suspended and Retry-After', async () => {
      const email = uniqueEmail('suspended');
      const issued = await issueWithToken(t, { email });
      expect((await suspend({ reason: 'drill', seconds: 120 })).statusCode).toBe(200);

      const refusals = [
        await postVerification(t, { email: uniqueEmail('suspended-issue') }),
        await postVerify(t, issued.token),
        await postResend(t, email),
      ];
      for (const res of refusals) {
        expectError(res, 503, 'suspended');
        const seconds = expectRetryAfter(res);
        expect(seconds).toBeGreaterThan(0);
        expect(seconds).toBeLessThanOrEqual(120);
      }

      // Tokens stay valid for when it resumes.
      const resumed = await resume();
      expect(resumed.statusCode, resumed.body).toBe(200);
      expect(resumed.json()).toEqual({ suspended: false });
      expect((await state()).json()).toMatchObject({ suspended: false, until: null, auto: false });
      expect((await postVerify(t, issued.token)).json()).toMatchObject({ status: 'verified' });
      expect((await postVerification(t, { email: uniqueEmail('resumed') })).statusCode).toBe(202);
      expect((await postResend(t, uniqueEmail('resumed'))).statusCode).toBe(202);
    });

    it('answers an open-ended suspension with a Retry-After too', async () => {
      await suspend({});
      const res = await postVerification(t, { email: uniqueEmail('open-ended') });
      expectError(res, 503, 'suspended');
    });

    it('answers the form routes with the paused page (503, Retry-After, the token kept for a retry)', async () => {
      const email = uniqueEmail('suspended-page');
      const issued = await issueWithToken(t, { email });
      await suspend({ reason: 'drill', seconds: 300 });

      const verify = await postForm(t, '/verify', { token: issued.token });
      const page = expectPage(verify, 503, 'paused');
      expect(hiddenToken(page)).toBe(issued.token);

      expectPage(await postForm(t, '/signup', { email: uniqueEmail('suspended-signup') }), 503);
      expectPage(await postForm(t, '/resend', { email }), 503);

      // Opening the link still shows the confirm page: a GET consumes and refuses nothing.
      const confirm = await t.app.inject({
        method: 'GET',
        url: `/verify?token=${issued.token}`,
      });
      expectPage(confirm, 200);

      await resume();
      const after = await postForm(t, '/verify', { token: issued.token });
      expectPage(after, 200, 'confirmed');
    });

    it('lifts a suspension with seconds by itself once the clock passes until', async () => {
      const start = t.clock.now();
      try {
        const res = await suspend({ seconds: 60 });
        expect(res.statusCode).toBe(200);
        expectError(await postVerification(t, { email: uniqueEmail('lift') }), 503, 'suspended');

        t.clock.advance(30_000);
        const half = await postVerification(t, { email: uniqueEmail('lift') });
        expectError(half, 503, 'suspended');
        expect(Number(half.headers['retry-after'])).toBeLessThanOrEqual(30);

        t.clock.advance(30_001);
        expect((await postVerification(t, { email: uniqueEmail('lift') })).statusCode).toBe(202);
        expect((await state()).json()).toMatchObject({ suspended: false });
      } finally {
        await resume();
        t.clock.set(start);
      }
    });

    it.each([
      ['zero seconds', { seconds: 0 }],
      ['negative seconds', { seconds: -1 }],
      ['seconds as text', { seconds: 'x' }],
      ['seconds as a numeric string', { seconds: '60' }],
      ['fractional seconds', { seconds: 1.5 }],
      ['a reason that is not text', { reason: 42 }],
      ['an array', [1, 2]],
      ['a string', 'suspend'],
    ])('answers 400 invalid_request for %s, and stays open', async (_name, payload) => {
      expectError(await suspend(payload), 400, 'invalid_request');
      expect((await state()).json()).toMatchObject({ suspended: false });
    });

    it('answers 400 or 200, never 500, for a reason with control characters', async () => {
      const res = await suspend({ reason: 'nul\u0000 byte\r\nand lines' });
      expect(res.statusCode, res.body).toBeLessThan(500);
      if (res.statusCode !== 200) expectError(res, 400, 'invalid_request');
    });

    it('answers 401 on every admin call without the key, and changes nothing', async () => {
      const calls = [
        { method: 'POST' as const, url: '/v1/admin/suspend', payload: { seconds: 60 } },
        { method: 'POST' as const, url: '/v1/admin/resume' },
        { method: 'GET' as const, url: '/v1/admin/state' },
      ];
      for (const call of calls) {
        expectError(await t.app.inject(call), 401, 'unauthorized');
        expectError(
          await t.app.inject({ ...call, headers: { authorization: 'Bearer nope' } }),
          401,
          'unauthorized',
        );
      }
      expect((await state()).json()).toMatchObject({ suspended: false });
    });

    it('counts suspensions and refusals in /metrics', async () => {
      await suspend({ seconds: 60 });
      await postVerification(t, { email: uniqueEmail('metrics') });
      const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^mailproof_suspensions_total\{auto="false"\} [1-9]/m);
      expect(metrics).toMatch(/^mailproof_suspended_refusals_total [1-9]/m);
      expect(metrics).toMatch(/^mailproof_suspended 1$/m);
      await resume();
      const after = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(after).toMatch(/^mailproof_suspended 0$/m);
    });

    it('keeps the operations routes up while suspended', async () => {
      await suspend({});
      for (const url of ['/healthz', '/readyz', '/metrics', '/.well-known/jwks.json', '/']) {
        const res = await t.app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(200);
      }
    });
  });
});

describe.each(storeKinds)('suspension across instances on $name', (kind) => {
  let t: TestService;
  let other: { app: FastifyInstance; service: Service };
  beforeAll(async () => {
    t = await openTestService({ kind, strategy: 'opaque' });
    // A second instance over the same database and data dir, as behind a load balancer.
    const service = await openService(t.config, {
      logger: createLogger('silent'),
      clock: t.clock,
      startWorker: false,
      suspendRefreshMs: 50,
    });
    const app = await buildApp(service);
    await app.ready();
    other = { app, service };
  });
  afterAll(async () => {
    await other?.app.close();
    await other?.service.close();
    await t?.close();
  });

  it('a suspension on one instance stops the others, and so does the resume', async () => {
    const issued = await issueWithToken(t, { email: uniqueEmail('instances') });
    const verifyOnOther = () =>
      other.app.inject({ method: 'POST', url: '/v1/verify', payload: { token: issued.token } });
    const stateOnOther = () =>
      other.app.inject({ method: 'GET', url: '/v1/admin/state', headers: t.auth });

    const suspended = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/suspend',
      headers: t.auth,
      payload: { reason: 'shared', seconds: 600 },
    });
    expect(suspended.statusCode).toBe(200);
    await vi.waitFor(async () => expectError(await verifyOnOther(), 503, 'suspended'), {
      timeout: 3000,
      interval: 25,
    });
    expect((await stateOnOther()).json()).toMatchObject({ suspended: true, reason: 'shared' });

    await t.app.inject({ method: 'POST', url: '/v1/admin/resume', headers: t.auth });
    await vi.waitFor(async () => expect((await verifyOnOther()).statusCode).toBe(200), {
      timeout: 3000,
      interval: 25,
    });
    expect((await verifyOnOther()).json().status).toBe('already_verified');
  });
});
