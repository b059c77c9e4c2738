/**
 * POST /v1/verify: every outcome of the contract (verified, already_verified, invalid,
 * expired, revoked by DELETE and by supersession), on every store kind and token strategy.
 */
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strategyNames } from '../../support/lifecycle.js';
import { openTestService, type TestService } from '../../support/service.js';
import { storeKinds } from '../../support/stores.js';
import {
  deleteVerification,
  expectError,
  forge,
  getStatus,
  ISO,
  issueWithToken,
  PAST_TTL_MS,
  postVerify,
  uniqueEmail,
  uniqueSubject,
  withClock,
} from './helpers.js';

describe.each(storeKinds)('POST /v1/verify on $name', (kind) => {
  describe.each(strategyNames)('%s strategy', (strategy) => {
    let t: TestService;
    beforeAll(async () => {
      t = await openTestService({ kind, strategy });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('answers 200 verified with {status, id, email, subject, verifiedAt} on first use', async () => {
      const email = uniqueEmail('verify');
      const subject = uniqueSubject('verify');
      const issued = await issueWithToken(t, { email, subject });
      const res = await postVerify(t, issued.token);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = res.json();
      expect(body).toMatchObject({ status: 'verified', id: issued.id, email, subject });
      expect(body.verifiedAt).toMatch(ISO);
      expect(Date.parse(body.verifiedAt)).toBe(t.clock.now());
    });

    it('answers subject null when the verification has none', async () => {
      const issued = await issueWithToken(t, { email: uniqueEmail('verify-nosubject') });
      const body = (await postVerify(t, issued.token)).json();
      expect(body).toMatchObject({ status: 'verified', subject: null });
    });

    it('answers 200 already_verified with the same fields when the token comes again', async () => {
      const email = uniqueEmail('again');
      const subject = uniqueSubject('again');
      const issued = await issueWithToken(t, { email, subject });
      const first = (await postVerify(t, issued.token)).json();
      await withClock(t, async () => {
        t.clock.advance(60_000);
        for (let i = 0; i < 2; i += 1) {
          const again = await postVerify(t, issued.token);
          expect(again.statusCode, again.body).toBe(200);
          expect(again.json()).toEqual({ ...first, status: 'already_verified' });
        }
      });
    });

    it.each([
      ['empty', ''],
      ['a word', 'hello'],
      ['spaces', 'a b c'],
      ['a JWT-like shape', 'a.b.c'],
      ['dots only', '...'],
      ['control characters', 'abc\u0000\r\ndef'],
      ['non-ASCII', 'tökén-✓-🙂'],
      ['HTML', '<script>alert(1)</script>'],
      ['a long string', 'A'.repeat(5000)],
      ['a JWT with alg none', 'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ2aWQiOiJ4In0.'],
    ])('answers 400 invalid_token for a malformed token: %s', async (_name, token) => {
      expectError(await postVerify(t, token), 400, 'invalid_token');
    });

    it('answers 400 invalid_token for a forged token (one character changed)', async () => {
      const issued = await issueWithToken(t, { email: uniqueEmail('forged') });
      const forged = forge(strategy, issued.token);
      expect(forged).not.toBe(issued.token);
      expectError(await postVerify(t, forged), 400, 'invalid_token');
      // The real token is untouched by the attempt.
      expect((await postVerify(t, issued.token)).json().status).toBe('verified');
    });

    it('answers 400 invalid_token for an unknown token of the right shape', async () => {
      let unknown: string;
      if (strategy === 'jwt') {
        // A well-formed token with a key the service does not hold, under the service's kid.
        const issued = await issueWithToken(t, { email: uniqueEmail('unknown-jwt') });
        const header = decodeProtectedHeader(issued.token);
        const claims = decodeJwt(issued.token);
        const { privateKey } = generateKeyPairSync('ed25519');
        unknown = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'EdDSA', typ: header.typ!, kid: header.kid! })
          .sign(privateKey);
      } else {
        unknown = 'A'.repeat(43);
      }
      expectError(await postVerify(t, unknown), 400, 'invalid_token');
    });

    it('answers 410 expired_token once the clock passes expiresAt, and nothing is consumed', async () => {
      const issued = await issueWithToken(t, { email: uniqueEmail('expired') });
      await withClock(t, async () => {
        t.clock.set(Date.parse(issued.expiresAt) + 1000);
        expectError(await postVerify(t, issued.token), 410, 'expired_token');
        t.clock.advance(PAST_TTL_MS);
        expectError(await postVerify(t, issued.token), 410, 'expired_token');
      });
      expect((await getStatus(t, issued.id)).json().status).toBe('pending');
    });

    it('answers 410 revoked_token after DELETE', async () => {
      const issued = await issueWithToken(t, { email: uniqueEmail('revoked') });
      expect((await deleteVerification(t, issued.id)).statusCode).toBe(204);
      expectError(await postVerify(t, issued.token), 410, 'revoked_token');
      expectError(await postVerify(t, issued.token), 410, 'revoked_token');
    });

    it('answers 410 revoked_token when a new verification has the same subject and purpose', async () => {
      const subject = uniqueSubject('supersede');
      const older = await issueWithToken(t, { email: uniqueEmail('sup-old'), subject });
      const newer = await issueWithToken(t, { email: uniqueEmail('sup-new'), subject });
      expectError(await postVerify(t, older.token), 410, 'revoked_token');
      expect((await postVerify(t, newer.token)).json().status).toBe('verified');
    });

    it('answers 410 revoked_token when a new verification has the same email, no subject and the same purpose', async () => {
      const email = uniqueEmail('supersede-email');
      const seen = new Set<string>();
      const older = await issueWithToken(t, { email }, seen);
      // The domain is matched case-insensitively: this is the same address.
      const [local, domain] = email.split('@') as [string, string];
      const newer = await issueWithToken(t, { email: `${local}@${domain.toUpperCase()}` }, seen);
      expectError(await postVerify(t, older.token), 410, 'revoked_token');
      expect((await postVerify(t, newer.token)).json().status).toBe('verified');
    });

    it('does not supersede across purposes or across subjects', async () => {
      const email = uniqueEmail('no-supersede');
      const seen = new Set<string>();
      const signup = await issueWithToken(t, { email, purpose: 'signup' }, seen);
      const change = await issueWithToken(t, { email, purpose: 'email-change' }, seen);
      const subjectA = await issueWithToken(t, { email, subject: uniqueSubject('a') }, seen);
      const subjectB = await issueWithToken(t, { email, subject: uniqueSubject('b') }, seen);
      for (const issued of [signup, change, subjectA, subjectB]) {
        expect((await postVerify(t, issued.token)).json().status, issued.id).toBe('verified');
      }
    });

    it('does not revoke a verified verification when a new one supersedes it', async () => {
      const subject = uniqueSubject('verified-stays');
      const older = await issueWithToken(t, { email: uniqueEmail('vs-old'), subject });
      expect((await postVerify(t, older.token)).json().status).toBe('verified');
      await issueWithToken(t, { email: uniqueEmail('vs-new'), subject });
      expect((await postVerify(t, older.token)).json().status).toBe('already_verified');
    });
  });
});
