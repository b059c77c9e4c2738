/**
 * POST /v1/verifications, GET /v1/verifications/:id and DELETE /v1/verifications/:id,
 * through `app.inject()`, on every store kind and token strategy.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strategyNames } from '../../support/lifecycle.js';
import { openTestService, TEST_API_KEY, type TestService } from '../../support/service.js';
import { storeKinds } from '../../support/stores.js';
import {
  deleteVerification,
  expectError,
  getStatus,
  ISO,
  issueWithToken,
  nextMail,
  PAST_TTL_MS,
  postVerification,
  postVerify,
  uniqueEmail,
  uniqueSubject,
  withClock,
} from './helpers.js';

describe.each(storeKinds)('verifications API on $name', (kind) => {
  describe.each(strategyNames)('%s strategy', (strategy) => {
    let t: TestService;
    beforeAll(async () => {
      t = await openTestService({ kind, strategy });
    });
    afterAll(async () => {
      await t?.close();
    });

    describe('POST /v1/verifications', () => {
      it('answers 202 with exactly {id, email, expiresAt, strategy}', async () => {
        const email = uniqueEmail('issue');
        const before = t.clock.now();
        const res = await postVerification(t, { email, subject: uniqueSubject('issue') });
        expect(res.statusCode, res.body).toBe(202);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        const body = res.json();
        expect(Object.keys(body).sort()).toEqual(['email', 'expiresAt', 'id', 'strategy']);
        expect(typeof body.id).toBe('string');
        expect(body.id.length).toBeGreaterThan(0);
        expect(body.email).toBe(email);
        expect(body.expiresAt).toMatch(ISO);
        // Whole seconds, like a JWT's exp: the record and the token expire together.
        expect(Date.parse(body.expiresAt)).toBe(
          Math.floor((before + t.config.tokenTtlSeconds * 1000) / 1000) * 1000,
        );
        expect(body.strategy).toBe(strategy);
      });

      it('commits the mail to the outbox before answering', async () => {
        const res = await postVerification(t, { email: uniqueEmail('outbox') });
        expect(res.statusCode).toBe(202);
        const mails = await t.service.store.listMailsFor(res.json().id);
        expect(mails.length).toBeGreaterThan(0);
      });

      it('mails a text and an HTML part with a URL-safe link that carries no personal data', async () => {
        const email = uniqueEmail('link');
        const subject = uniqueSubject('link');
        const { token, mail } = await issueWithToken(t, { email, subject });
        const link = `http://mailproof.test/verify?token=${token}`;
        expect(mail.links).toEqual([link]);
        expect(mail.text).toContain(link);
        expect(mail.html).toContain(link);
        expect(token).toMatch(/^[A-Za-z0-9._~-]+$/);
        expect(encodeURIComponent(token)).toBe(token);
        expect(token).not.toContain(email.split('@')[0]!);
        if (strategy === 'jwt') {
          const claims = JSON.stringify(decodeJwt(token));
          expect(claims).not.toContain(email);
          expect(claims).not.toContain(email.split('@')[0]!);
          expect(claims).not.toContain(subject);
        }
      });

      it('trims the email and answers it as given', async () => {
        const email = uniqueEmail('trim');
        const res = await postVerification(t, { email: `  ${email}\t ` });
        expect(res.statusCode, res.body).toBe(202);
        expect(res.json().email).toBe(email);
      });

      it('accepts both purposes, a 128-character subject and an IDN domain', async () => {
        const accepted = [
          { email: uniqueEmail('purpose'), purpose: 'signup' },
          { email: uniqueEmail('purpose'), purpose: 'email-change' },
          { email: uniqueEmail('subject'), subject: 's'.repeat(128) },
          { email: uniqueEmail('subject'), subject: 'Zoë #42 (admin) ✓' },
          { email: `idn-${uniqueSubject('idn')}@bücher.example` },
        ];
        for (const body of accepted) {
          const res = await postVerification(t, body);
          expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(202);
        }
      });

      it('matches an IDN domain with its punycode form and in any case', async () => {
        const local = uniqueSubject('idn');
        const unicode = (await postVerification(t, { email: `${local}@Bücher.example` })).json();
        expect(unicode.email).toBe(`${local}@Bücher.example`);
        // Same address, no subject, same purpose: the newer one supersedes the older.
        await postVerification(t, { email: `${local}@xn--bcher-kva.EXAMPLE` });
        expect((await getStatus(t, unicode.id)).json().status).toBe('revoked');
      });

      it('ignores unknown fields', async () => {
        const email = uniqueEmail('unknown-fields');
        const res = await postVerification(t, {
          email,
          extra: 1,
          nested: { deep: [1, 2, 3] },
          token: 'not-mine',
          id: 'vf_chosen_by_caller',
          strategy: 'other',
        });
        expect(res.statusCode, res.body).toBe(202);
        expect(res.json().email).toBe(email);
        expect(res.json().id).not.toBe('vf_chosen_by_caller');
        expect(res.json().strategy).toBe(strategy);
      });

      it.each([
        ['no Authorization header', undefined],
        ['a wrong key', `Bearer ${TEST_API_KEY}x`],
        ['an empty bearer', 'Bearer '],
        ['the key without the scheme', TEST_API_KEY],
        ['another scheme', `Basic ${Buffer.from(`user:${TEST_API_KEY}`).toString('base64')}`],
        ['the key twice', `Bearer ${TEST_API_KEY} ${TEST_API_KEY}`],
      ])('is 401 unauthorized with %s', async (_name, authorization) => {
        const email = uniqueEmail('unauthorized');
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/verifications',
          headers: authorization === undefined ? {} : { authorization },
          payload: { email },
        });
        expectError(res, 401, 'unauthorized');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      });

      it('accepts the Bearer scheme in any case', async () => {
        for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
          const res = await postVerification(
            t,
            { email: uniqueEmail('scheme') },
            { authorization: `${scheme} ${TEST_API_KEY}` },
          );
          expect(res.statusCode, `${scheme}: ${res.body}`).toBe(202);
        }
      });

      it('checks the key before the body: a bad body without a key is still 401', async () => {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/verifications',
          headers: { 'content-type': 'application/json' },
          payload: '{not json',
        });
        expectError(res, 401, 'unauthorized');
      });
    });

    describe('GET /v1/verifications/:id', () => {
      const fields = [
        'createdAt',
        'email',
        'expiresAt',
        'id',
        'purpose',
        'status',
        'subject',
        'verifiedAt',
      ];

      it('answers every field, pending then verified', async () => {
        const email = uniqueEmail('status');
        const subject = uniqueSubject('status');
        const issued = await issueWithToken(t, { email, subject, purpose: 'email-change' });

        const pending = await getStatus(t, issued.id);
        expect(pending.statusCode, pending.body).toBe(200);
        const body = pending.json();
        for (const field of fields) expect(body).toHaveProperty(field);
        expect(body).toMatchObject({
          id: issued.id,
          email,
          subject,
          purpose: 'email-change',
          status: 'pending',
          expiresAt: issued.expiresAt,
          verifiedAt: null,
        });
        expect(body.createdAt).toMatch(ISO);
        expect(Date.parse(body.createdAt)).toBeLessThan(Date.parse(body.expiresAt));

        const verify = await postVerify(t, issued.token);
        expect(verify.statusCode, verify.body).toBe(200);

        const verified = (await getStatus(t, issued.id)).json();
        expect(verified.status).toBe('verified');
        expect(verified.verifiedAt).toMatch(ISO);
        expect(verified.verifiedAt).toBe(verify.json().verifiedAt);
      });

      it('answers subject null and purpose signup by default', async () => {
        const res = await postVerification(t, { email: uniqueEmail('defaults') });
        const body = (await getStatus(t, res.json().id)).json();
        expect(body).toMatchObject({ subject: null, purpose: 'signup', status: 'pending' });
      });

      it('says expired once the clock passes expiresAt', async () => {
        const res = await postVerification(t, { email: uniqueEmail('status-expired') });
        const { id } = res.json();
        await withClock(t, async () => {
          t.clock.advance(PAST_TTL_MS);
          const body = (await getStatus(t, id)).json();
          expect(body.status).toBe('expired');
          expect(body.verifiedAt).toBeNull();
        });
        expect((await getStatus(t, id)).json().status).toBe('pending');
      });

      it('says revoked after DELETE and after supersession', async () => {
        const deleted = (await postVerification(t, { email: uniqueEmail('status-del') })).json();
        expect((await deleteVerification(t, deleted.id)).statusCode).toBe(204);
        expect((await getStatus(t, deleted.id)).json().status).toBe('revoked');

        const subject = uniqueSubject('status-sup');
        const older = (await postVerification(t, { email: uniqueEmail('s1'), subject })).json();
        await postVerification(t, { email: uniqueEmail('s2'), subject });
        expect((await getStatus(t, older.id)).json().status).toBe('revoked');
      });

      it.each([
        ['an unknown id', 'vf_doesnotexist'],
        ['one character', 'x'],
        ['65 characters', 'a'.repeat(65)],
        ['2000 characters', 'a'.repeat(2000)],
        ['SQL', "' OR 1=1 --"],
        ['a NUL', '%00'],
        ['a control character', '%01'],
        ['an emoji', '%F0%9F%99%82'],
        ['an encoded path', '..%2F..%2Fetc'],
      ])('is 404 not_found for %s', async (_name, id) => {
        const res = await t.app.inject({
          method: 'GET',
          url: `/v1/verifications/${id.includes('%') ? id : encodeURIComponent(id)}`,
          headers: t.auth,
        });
        expectError(res, 404, 'not_found');
      });

      it('is 401 without or with a wrong key', async () => {
        const { id } = (await postVerification(t, { email: uniqueEmail('status-401') })).json();
        expectError(
          await t.app.inject({ method: 'GET', url: `/v1/verifications/${id}` }),
          401,
          'unauthorized',
        );
        expectError(
          await t.app.inject({
            method: 'GET',
            url: `/v1/verifications/${id}`,
            headers: { authorization: 'Bearer wrong' },
          }),
          401,
          'unauthorized',
        );
      });
    });

    describe('DELETE /v1/verifications/:id', () => {
      it('answers 204 with no body, and the tokens stop working (410 revoked_token)', async () => {
        const seen = new Set<string>();
        const email = uniqueEmail('delete');
        const issued = await issueWithToken(t, { email }, seen);
        // A second token for the same verification: revoking stops every one of them.
        await t.app.inject({ method: 'POST', url: '/v1/resend', payload: { email } });
        const resentToken = new URL((await nextMail(t, email, seen)).links[0]!).searchParams.get(
          'token',
        )!;

        const res = await deleteVerification(t, issued.id);
        expect(res.statusCode).toBe(204);
        expect(res.body).toBe('');

        expectError(await postVerify(t, issued.token), 410, 'revoked_token');
        expectError(await postVerify(t, resentToken), 410, 'revoked_token');
      });

      it('is 404 not_found for an unknown id', async () => {
        expectError(await deleteVerification(t, 'vf_unknown'), 404, 'not_found');
        expectError(await deleteVerification(t, 'z'.repeat(300)), 404, 'not_found');
      });

      it('is 401 without the key, and revokes nothing', async () => {
        const issued = await issueWithToken(t, { email: uniqueEmail('delete-401') });
        const res = await t.app.inject({
          method: 'DELETE',
          url: `/v1/verifications/${issued.id}`,
        });
        expectError(res, 401, 'unauthorized');
        expect((await getStatus(t, issued.id)).json().status).toBe('pending');
        expect((await postVerify(t, issued.token)).json().status).toBe('verified');
      });
    });
  });
});
