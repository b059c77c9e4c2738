/**
 * The rate limits seen from outside, one instance with in-process counters: per client
 * address on the public routes, failed verifications per address (guessing), and mails per
 * recipient on issue and resend whatever the client address, known address or not, with
 * the address canonicalised. Every limit is configurable (POINTS/SECONDS or off).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  expectError,
  expectPage,
  expectRetryAfter,
  hiddenToken,
  nextMail,
  uniqueEmail,
} from '../http/api/helpers.js';
import { openTestService, type TestService } from '../support/service.js';
import { storeKinds } from '../support/stores.js';
import {
  call,
  codeOf,
  DEFAULT,
  form,
  issue,
  metricValue,
  resend,
  scrape,
  uniqueIp,
  verify,
} from './support.js';

describe.each(storeKinds)('rate limits over HTTP on $name', (kind) => {
  const opened: TestService[] = [];
  const open = async (env: Record<string, string>, startWorker = false) => {
    const t = await openTestService({ kind, strategy: 'opaque', env, startWorker });
    opened.push(t);
    return t;
  };
  afterEach(async () => {
    for (const t of opened.splice(0)) await t.close();
  });

  describe('per client address', () => {
    it('refuses the request past the limit with 429 rate_limited and Retry-After: JSON for the API, the too-many-attempts page for a browser; other addresses go on', async () => {
      const { app } = await open({ MAILPROOF_RATE_LIMIT_CLIENT: '3/60' });
      const a = uniqueIp();
      const b = uniqueIp();
      for (let i = 0; i < 3; i++) {
        const res = await verify(app, `not-a-token-${i}`, a);
        expectError(res, 400, 'invalid_token');
      }
      const refused = await verify(app, 'not-a-token-4', a);
      expectError(refused, 429, 'rate_limited');
      expect(expectRetryAfter(refused)).toBeLessThanOrEqual(60);

      const page = await form(app, '/verify', { token: 'not-a-token-5' }, a);
      expectPage(page, 429, 'Too many attempts');
      // Every public route shares the per-client limit: the sign-up page too.
      const home = await call(app, 'GET', '/', { ip: a, headers: { accept: 'text/html' } });
      expectPage(home, 429, 'Too many attempts');

      expectError(await verify(app, 'not-a-token-6', b), 400, 'invalid_token');
      const ops = await call(app, 'GET', '/healthz', { ip: a });
      expect(ops.statusCode, 'operations are not limited').toBe(200);
      expect(
        metricValue(await scrape(app), 'mailproof_rate_limited_total', { limit: 'client' }),
      ).toBe(3);
    });

    it('with MAILPROOF_TRUST_PROXY=true counts the X-Forwarded-For address; without it a forged header does not escape the limit', async () => {
      const trusting = await open({
        MAILPROOF_RATE_LIMIT_CLIENT: '2/60',
        MAILPROOF_TRUST_PROXY: 'true',
      });
      const viaProxy = (xff: string) =>
        call(trusting.app, 'GET', '/verify?token=x', {
          ip: '10.0.0.1',
          headers: { 'x-forwarded-for': xff, accept: 'text/html' },
        });
      expect((await viaProxy('203.0.113.1')).statusCode).toBe(200);
      expect((await viaProxy('203.0.113.1')).statusCode).toBe(200);
      expectPage(await viaProxy('203.0.113.1'), 429, 'Too many attempts');
      // Same proxy, another client behind it.
      expect((await viaProxy('203.0.113.2')).statusCode).toBe(200);

      const direct = await open({ MAILPROOF_RATE_LIMIT_CLIENT: '2/60' });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await call(direct.app, 'POST', '/v1/verify', {
          ip: '10.0.0.2',
          headers: { 'x-forwarded-for': `203.0.113.${10 + i}` },
          payload: { token: 'x' },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([400, 400, 429, 429]);
    });
  });

  describe('failed verifications per address (guessing)', () => {
    it('blocks an address after the default 20 failures, even for a genuine token, while another address verifies', async () => {
      const svc = await open({ MAILPROOF_RATE_LIMIT_VERIFY_FAILURES: DEFAULT }, true);
      const email = uniqueEmail('guess');
      expect((await issue(svc.app, email)).statusCode).toBe(202);
      const mail = await nextMail(svc, email);
      const token = new URL(mail.links[0]!).searchParams.get('token')!;

      const guesser = uniqueIp();
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        statuses.push((await verify(svc.app, `guess-${i}-${'A'.repeat(30)}`, guesser)).statusCode);
      }
      expect(statuses).toEqual(Array(20).fill(400));

      const blocked = await verify(svc.app, token, guesser);
      expectError(blocked, 429, 'rate_limited');
      const retryAfter = expectRetryAfter(blocked);
      expect(retryAfter).toBeGreaterThan(500);
      expect(retryAfter).toBeLessThanOrEqual(600);
      const page = expectPage(
        await form(svc.app, '/verify', { token }, guesser),
        429,
        'Too many attempts',
      );
      // The page offers "Try again" with the link's token, for once the wait is over.
      expect(hiddenToken(page)).toBe(token);

      // The genuine token was not consumed by the refused attempts: another address verifies it.
      const other = await verify(svc.app, token, uniqueIp());
      expect(other.statusCode, other.body).toBe(200);
      expect(other.json().status).toBe('verified');
      const metrics = await scrape(svc.app);
      expect(
        metricValue(metrics, 'mailproof_rate_limited_total', { limit: 'verify_failures' }),
      ).toBe(2);
    });

    it('counts only failures: successful verifications do not block', async () => {
      const svc = await open({ MAILPROOF_RATE_LIMIT_VERIFY_FAILURES: '2/600' }, true);
      const ip = uniqueIp();
      for (let i = 0; i < 3; i++) {
        const email = uniqueEmail('ok');
        expect((await issue(svc.app, email)).statusCode).toBe(202);
        const token = new URL((await nextMail(svc, email)).links[0]!).searchParams.get('token')!;
        expect((await verify(svc.app, token, ip)).statusCode).toBe(200);
      }
      expectError(await verify(svc.app, 'x', ip), 400, 'invalid_token');
      expectError(await verify(svc.app, 'y', ip), 400, 'invalid_token');
      expectError(await verify(svc.app, 'z', ip), 429, 'rate_limited');
    });
  });

  describe('per recipient email (mail bombing)', () => {
    it('issue: the default is 5 mails per email per hour whatever the number of client addresses', async () => {
      const { app } = await open({ MAILPROOF_RATE_LIMIT_EMAIL: DEFAULT });
      const email = uniqueEmail('bomb');
      const statuses: number[] = [];
      let last = await issue(app, email, uniqueIp());
      statuses.push(last.statusCode);
      for (let i = 1; i < 6; i++) {
        last = await issue(app, email, uniqueIp());
        statuses.push(last.statusCode);
      }
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
      expectError(last, 429, 'rate_limited');
      const retryAfter = expectRetryAfter(last);
      expect(retryAfter).toBeGreaterThan(3500);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      // Another recipient is unaffected.
      expect((await issue(app, uniqueEmail('other'), uniqueIp())).statusCode).toBe(202);
      expect(
        metricValue(await scrape(app), 'mailproof_rate_limited_total', { limit: 'email' }),
      ).toBe(1);
    });

    it('resend: a known and an unknown email are counted alike (same answers, 429 at the same count), from any address', async () => {
      const { app, service } = await open({ MAILPROOF_RATE_LIMIT_EMAIL: DEFAULT });
      const known = uniqueEmail('known');
      const unknown = uniqueEmail('unknown');
      // Made known through the core, so the limit has counted nothing for it yet.
      await service.verifications.issue({ email: known });

      const run = async (email: string) => {
        const answers: string[] = [];
        for (let i = 0; i < 7; i++) {
          const res = await resend(app, email, uniqueIp());
          answers.push(`${res.statusCode} ${res.statusCode === 202 ? res.body : codeOf(res)}`);
        }
        return answers;
      };
      const expected = [...Array(5).fill('202 {}'), '429 rate_limited', '429 rate_limited'];
      expect(await run(known)).toEqual(expected);
      expect(await run(unknown)).toEqual(expected);
    });

    it('issue, API resend and form resend share one counter; the form gets the too-many-attempts page', async () => {
      const { app } = await open({ MAILPROOF_RATE_LIMIT_EMAIL: DEFAULT });
      const email = uniqueEmail('shared');
      expect((await issue(app, email, uniqueIp())).statusCode).toBe(202);
      expect((await issue(app, email, uniqueIp())).statusCode).toBe(202);
      expect((await resend(app, email, uniqueIp())).statusCode).toBe(202);
      expect((await resend(app, email, uniqueIp())).statusCode).toBe(202);
      expectPage(await form(app, '/resend', { email }, uniqueIp()), 200, 'Check your inbox');
      expectPage(await form(app, '/resend', { email }, uniqueIp()), 429, 'Too many attempts');
      expectError(await resend(app, email, uniqueIp()), 429, 'rate_limited');
      expectError(await issue(app, email, uniqueIp()), 429, 'rate_limited');
    });

    it('counts the canonical address: the domain in any case, padded, or as IDN share one counter; the local part stays case-sensitive', async () => {
      const { app } = await open({ MAILPROOF_RATE_LIMIT_EMAIL: DEFAULT });
      const local = uniqueEmail('Canon').split('@')[0]!;
      const spellings = [
        `${local}@Example.com`,
        `${local}@EXAMPLE.COM`,
        ` ${local}@example.com `,
        `${local}@example.COM`,
        `${local}@ExAmPlE.cOm`,
      ];
      for (const spelling of spellings) {
        expect((await issue(app, spelling, uniqueIp())).statusCode, spelling).toBe(202);
      }
      expectError(await resend(app, `${local}@EXAMPLE.com`, uniqueIp()), 429, 'rate_limited');
      expect((await issue(app, `${local.toLowerCase()}@example.com`, uniqueIp())).statusCode).toBe(
        202,
      );

      const idn = uniqueEmail('idn').split('@')[0]!;
      for (let i = 0; i < 3; i++)
        expect((await issue(app, `${idn}@Bücher.example`)).statusCode).toBe(202);
      for (let i = 0; i < 2; i++) {
        expect((await issue(app, `${idn}@xn--bcher-kva.example`)).statusCode).toBe(202);
      }
      expectError(await issue(app, `${idn}@BÜCHER.example`), 429, 'rate_limited');
    });
  });

  describe('configuration', () => {
    it('takes custom limits: email 2/60, issue_client 2/600, client 4/60', async () => {
      const { app } = await open({
        MAILPROOF_RATE_LIMIT_EMAIL: '2/60',
        MAILPROOF_RATE_LIMIT_ISSUE_CLIENT: '2/600',
        MAILPROOF_RATE_LIMIT_CLIENT: '4/60',
      });
      const email = uniqueEmail('custom');
      expect((await issue(app, email, uniqueIp())).statusCode).toBe(202);
      expect((await issue(app, email, uniqueIp())).statusCode).toBe(202);
      const third = await issue(app, email, uniqueIp());
      expectError(third, 429, 'rate_limited');
      expect(expectRetryAfter(third)).toBeLessThanOrEqual(60);

      // issue_client: resends and sign-ups per address, whatever the email.
      const ip = uniqueIp();
      expect((await resend(app, uniqueEmail('ic'), ip)).statusCode).toBe(202);
      expect((await resend(app, uniqueEmail('ic'), ip)).statusCode).toBe(202);
      const third2 = await resend(app, uniqueEmail('ic'), ip);
      expectError(third2, 429, 'rate_limited');
      expect(expectRetryAfter(third2)).toBeGreaterThan(500);
      expectPage(
        await form(app, '/signup', { email: uniqueEmail('ic') }, ip),
        429,
        'Too many attempts',
      );
      expect((await resend(app, uniqueEmail('ic'), uniqueIp())).statusCode).toBe(202);

      // client 4/60: the fifth public request from one address.
      const busy = uniqueIp();
      for (let i = 0; i < 4; i++) expect((await verify(app, 'x', busy)).statusCode).toBe(400);
      expectError(await verify(app, 'x', busy), 429, 'rate_limited');
    });

    it('switches a limit off with "off": 12 mails to one email and 40 failures from one address all answered', async () => {
      const { app } = await open({
        MAILPROOF_RATE_LIMIT_EMAIL: 'off',
        MAILPROOF_RATE_LIMIT_VERIFY_FAILURES: 'off',
        MAILPROOF_RATE_LIMIT_CLIENT: 'off',
        MAILPROOF_RATE_LIMIT_ISSUE_CLIENT: 'off',
      });
      const email = uniqueEmail('off');
      const ip = uniqueIp();
      for (let i = 0; i < 6; i++) expect((await issue(app, email, ip)).statusCode).toBe(202);
      for (let i = 0; i < 6; i++) expect((await resend(app, email, ip)).statusCode).toBe(202);
      for (let i = 0; i < 40; i++) expect((await verify(app, `x${i}`, ip)).statusCode).toBe(400);
    });
  });
});
