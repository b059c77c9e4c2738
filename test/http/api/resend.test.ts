/**
 * POST /v1/resend: 202 `{}` for every address (no enumeration), a fresh token and mail for
 * the newest pending verification, earlier tokens still valid, single use across them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strategyNames } from '../../support/lifecycle.js';
import { openTestService, type TestService } from '../../support/service.js';
import { storeKinds } from '../../support/stores.js';
import {
  expectError,
  issueWithToken,
  nextMail,
  postResend,
  postVerify,
  tokenOf,
  uniqueEmail,
  uniqueSubject,
} from './helpers.js';

describe.each(storeKinds)('POST /v1/resend on $name', (kind) => {
  describe.each(strategyNames)('%s strategy', (strategy) => {
    let t: TestService;
    beforeAll(async () => {
      t = await openTestService({ kind, strategy });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('answers 202 {} for a pending address and mails a fresh link', async () => {
      const email = uniqueEmail('resend');
      const seen = new Set<string>();
      const issued = await issueWithToken(t, { email, subject: uniqueSubject('resend') }, seen);

      const res = await postResend(t, email);
      expect(res.statusCode, res.body).toBe(202);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual({});

      const fresh = await nextMail(t, email, seen);
      const freshToken = tokenOf(fresh);
      expect(freshToken).not.toBe(issued.token);
      expect(fresh.links[0]).toBe(`http://mailproof.test/verify?token=${freshToken}`);
      // Both tokens belong to the same verification.
      expect((await t.service.store.listMailsFor(issued.id)).length).toBe(2);
    });

    it('answers 202 {} for an unknown address, and mails nothing', async () => {
      const email = uniqueEmail('resend-unknown');
      const res = await postResend(t, email);
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toEqual({});
      await sleep(150);
      expect(t.service.devCatcher!.list().some((m) => m.to.includes(email))).toBe(false);
    });

    it('answers the same for verified and revoked addresses as for unknown ones', async () => {
      const verifiedEmail = uniqueEmail('resend-verified');
      const verified = await issueWithToken(t, { email: verifiedEmail });
      expect((await postVerify(t, verified.token)).json().status).toBe('verified');
      const unknown = await postResend(t, uniqueEmail('resend-nobody'));
      const known = await postResend(t, verifiedEmail);
      expect(known.statusCode).toBe(unknown.statusCode);
      expect(known.body).toBe(unknown.body);
      expect(known.headers['content-type']).toBe(unknown.headers['content-type']);
    });

    it('keeps the first token valid: the old link verifies, then the new one is already_verified', async () => {
      const email = uniqueEmail('resend-old-first');
      const seen = new Set<string>();
      const issued = await issueWithToken(t, { email }, seen);
      expect((await postResend(t, email)).statusCode).toBe(202);
      const freshToken = tokenOf(await nextMail(t, email, seen));

      const first = await postVerify(t, issued.token);
      expect(first.statusCode, first.body).toBe(200);
      expect(first.json()).toMatchObject({ status: 'verified', id: issued.id, email });
      const second = await postVerify(t, freshToken);
      expect(second.statusCode, second.body).toBe(200);
      expect(second.json()).toEqual({ ...first.json(), status: 'already_verified' });
    });

    it('once the new token is used, the old one answers already_verified', async () => {
      const email = uniqueEmail('resend-new-first');
      const seen = new Set<string>();
      const issued = await issueWithToken(t, { email }, seen);
      expect((await postResend(t, email)).statusCode).toBe(202);
      const freshToken = tokenOf(await nextMail(t, email, seen));

      expect((await postVerify(t, freshToken)).json()).toMatchObject({
        status: 'verified',
        id: issued.id,
      });
      expect((await postVerify(t, issued.token)).json()).toMatchObject({
        status: 'already_verified',
        id: issued.id,
      });
    });

    it('matches the address with its domain in any case, and mails the address first given', async () => {
      const email = uniqueEmail('resend-case');
      const [local, domain] = email.split('@') as [string, string];
      const seen = new Set<string>();
      await issueWithToken(t, { email }, seen);
      expect((await postResend(t, `  ${local}@${domain.toUpperCase()} `)).statusCode).toBe(202);
      const fresh = await nextMail(t, email, seen);
      expect(fresh.to).toEqual([email]);
    });

    it('resends for the newest pending verification only', async () => {
      const email = uniqueEmail('resend-newest');
      const seen = new Set<string>();
      await issueWithToken(t, { email, purpose: 'signup' }, seen);
      t.clock.advance(1000);
      const newest = await issueWithToken(t, { email, purpose: 'email-change' }, seen);
      expect((await postResend(t, email)).statusCode).toBe(202);
      const freshToken = tokenOf(await nextMail(t, email, seen));
      expect((await postVerify(t, freshToken)).json()).toMatchObject({
        status: 'verified',
        id: newest.id,
      });
    });

    it('answers 400 for a body without a string email', async () => {
      for (const payload of [{}, { email: 42 }, { email: null }, { email: ['a@example.com'] }]) {
        const res = await t.app.inject({ method: 'POST', url: '/v1/resend', payload });
        expectError(res, 400, 'invalid_request');
      }
    });

    it('answers 400 invalid_email for an address that is not one mailbox', async () => {
      expectError(await postResend(t, 'Bob <bob@example.com>'), 400, 'invalid_email');
      expectError(await postResend(t, 'not-an-address'), 400, 'invalid_email');
    });

    it('needs no API key', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/resend',
        headers: { authorization: 'Bearer wrong' },
        payload: { email: uniqueEmail('resend-nokey') },
      });
      expect(res.statusCode).toBe(202);
    });

    // The 429s of resend are proven with limits on, in test/protection-http/rate-limits.test.ts.
  });
});
