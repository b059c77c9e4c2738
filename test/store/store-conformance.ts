import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  OutboxMailInput,
  Purpose,
  Store,
  TokenRecord,
  VerificationRecord,
} from '../../src/core/ports.js';

/** A store to test, and how to throw it away. */
export interface StoreUnderTest {
  store: Store;
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const TTL_MS = 15 * 60_000;
const LEASE_MS = 60_000;

/** A verification input as the core would build it, at `at` (default T0). */
export function issue(
  options: { email?: string; subject?: string | null; purpose?: Purpose; at?: number } = {},
) {
  const { email = 'Ada@Example.com', subject = null, purpose = 'signup', at = T0 } = options;
  const id = randomUUID();
  const verification: VerificationRecord = {
    id,
    email,
    emailKey: email.toLowerCase(),
    subject,
    purpose,
    status: 'pending',
    createdAt: at,
    expiresAt: at + TTL_MS,
    verifiedAt: null,
    revokedAt: null,
  };
  return { verification, token: tokenFor(id, at), mail: mailFor(id, email, at) };
}

/** Another token for verification `id`, issued at `at`. */
export function tokenFor(verificationId: string, at: number): TokenRecord {
  return { key: `key-${randomUUID()}`, verificationId, createdAt: at, expiresAt: at + TTL_MS };
}

/** Another mail for verification `id`, created at `at`. */
export function mailFor(verificationId: string, recipient: string, at: number): OutboxMailInput {
  return {
    id: randomUUID(),
    verificationId,
    recipient,
    payload: `sealed:${randomUUID()}`,
    createdAt: at,
  };
}

/**
 * The behaviour every `Store` must show, run against one implementation. `factory` gives a
 * fresh, empty store per test.
 */
export function runStoreConformance(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });

    afterEach(async () => {
      await cleanup();
    });

    describe('createVerification', () => {
      it('stores the verification, its token and its mail', async () => {
        const input = issue({ subject: 'user-1' });
        expect(await store.createVerification(input)).toEqual({ superseded: [] });

        expect(await store.getVerification(input.verification.id)).toEqual(input.verification);
        expect(await store.getMail(input.mail.id)).toEqual({
          ...input.mail,
          state: 'pending',
          attempts: 0,
          nextAttemptAt: input.mail.createdAt,
          lastError: null,
          sentAt: null,
        });
        const consumed = await store.consumeToken(input.token.key, T0 + 1);
        expect(consumed.kind).toBe('verified');
      });

      it('supersedes the pending verification of the same subject and purpose', async () => {
        const first = issue({ subject: 'user-1' });
        await store.createVerification(first);
        const second = issue({ subject: 'user-1', email: 'other@example.com', at: T0 + 10 });

        expect(await store.createVerification(second)).toEqual({
          superseded: [first.verification.id],
        });
        expect(await store.getVerification(first.verification.id)).toMatchObject({
          status: 'revoked',
          revokedAt: T0 + 10,
        });
        expect((await store.getVerification(second.verification.id))?.status).toBe('pending');
        expect((await store.consumeToken(first.token.key, T0 + 20)).kind).toBe('revoked');
      });

      it('supersedes by address and purpose when there is no subject', async () => {
        const first = issue();
        await store.createVerification(first);
        const second = issue({ email: 'ADA@example.com', at: T0 + 10 });

        expect(await store.createVerification(second)).toEqual({
          superseded: [first.verification.id],
        });
        expect((await store.getVerification(first.verification.id))?.status).toBe('revoked');
      });

      it('supersedes neither across purposes nor across subjects nor across addresses', async () => {
        const bySubject = issue({ subject: 'user-1' });
        const anonymous = issue();
        await store.createVerification(bySubject);
        await store.createVerification(anonymous);

        const others = [
          issue({ subject: 'user-1', purpose: 'email-change' }),
          issue({ subject: 'user-2' }),
          issue({ purpose: 'email-change' }),
          issue({ email: 'grace@example.com' }),
        ];
        for (const other of others) {
          expect(await store.createVerification(other)).toEqual({ superseded: [] });
        }
        expect((await store.getVerification(bySubject.verification.id))?.status).toBe('pending');
        expect((await store.getVerification(anonymous.verification.id))?.status).toBe('pending');
      });

      it('leaves verified and revoked verifications alone', async () => {
        const verified = issue({ subject: 'user-1' });
        await store.createVerification(verified);
        await store.consumeToken(verified.token.key, T0 + 1);

        const next = issue({ subject: 'user-1', at: T0 + 10 });
        expect(await store.createVerification(next)).toEqual({ superseded: [] });
        expect((await store.getVerification(verified.verification.id))?.status).toBe('verified');
      });

      it('keeps exactly one pending verification when requests race', async () => {
        const inputs = Array.from({ length: 10 }, (_, i) =>
          issue({ subject: 'racer', at: T0 + i }),
        );
        await Promise.all(inputs.map((input) => store.createVerification(input)));

        const statuses = await Promise.all(
          inputs.map(async (input) => (await store.getVerification(input.verification.id))?.status),
        );
        expect(statuses.filter((status) => status === 'pending')).toHaveLength(1);
        expect(statuses.filter((status) => status === 'revoked')).toHaveLength(9);
      });
    });

    describe('findPendingByEmail', () => {
      it('returns the newest pending verification of the address, expired or not', async () => {
        const older = issue({ subject: 'user-1' });
        const newer = issue({ subject: 'user-2', at: T0 + 10 });
        await store.createVerification(older);
        await store.createVerification(newer);

        expect((await store.findPendingByEmail('ada@example.com'))?.id).toBe(newer.verification.id);
        await store.revoke(newer.verification.id, T0 + 20);
        expect((await store.findPendingByEmail('ada@example.com'))?.id).toBe(older.verification.id);
      });

      it('returns null when nothing of the address is pending', async () => {
        const input = issue();
        await store.createVerification(input);
        await store.consumeToken(input.token.key, T0 + 1);

        expect(await store.findPendingByEmail('ada@example.com')).toBeNull();
        expect(await store.findPendingByEmail('nobody@example.com')).toBeNull();
      });
    });

    describe('addToken', () => {
      it('adds a token and a mail to a pending verification and moves its expiry', async () => {
        const input = issue();
        await store.createVerification(input);
        const token = tokenFor(input.verification.id, T0 + 60_000);
        const mail = mailFor(input.verification.id, input.verification.email, T0 + 60_000);

        expect(await store.addToken({ token, mail })).toBe(true);
        expect((await store.getVerification(input.verification.id))?.expiresAt).toBe(
          token.expiresAt,
        );
        expect((await store.listMailsFor(input.verification.id)).map((m) => m.id)).toEqual([
          input.mail.id,
          mail.id,
        ]);
        expect((await store.consumeToken(token.key, T0 + 70_000)).kind).toBe('verified');
      });

      it.each(['verified', 'revoked'] as const)('writes nothing once %s', async (status) => {
        const input = issue();
        await store.createVerification(input);
        if (status === 'verified') await store.consumeToken(input.token.key, T0 + 1);
        else await store.revoke(input.verification.id, T0 + 1);
        const token = tokenFor(input.verification.id, T0 + 10);
        const mail = mailFor(input.verification.id, input.verification.email, T0 + 10);

        expect(await store.addToken({ token, mail })).toBe(false);
        expect((await store.getVerification(input.verification.id))?.expiresAt).toBe(
          input.verification.expiresAt,
        );
        expect(await store.consumeToken(token.key, T0 + 20)).toEqual({ kind: 'unknown' });
        expect(await store.getMail(mail.id)).toBeNull();
      });
    });

    describe('consumeToken', () => {
      it('verifies once, then reports already_verified', async () => {
        const input = issue();
        await store.createVerification(input);

        const verification = { ...input.verification, status: 'verified', verifiedAt: T0 + 5 };
        expect(await store.consumeToken(input.token.key, T0 + 5)).toEqual({
          kind: 'verified',
          verification,
        });
        expect(await store.consumeToken(input.token.key, T0 + 6)).toEqual({
          kind: 'already_verified',
          verification,
        });
      });

      it('reports an unknown key', async () => {
        expect(await store.consumeToken('no-such-key', T0)).toEqual({ kind: 'unknown' });
      });

      it('treats expiresAt == now as expired, one ms earlier as valid', async () => {
        const expired = issue({ email: 'one@example.com' });
        const valid = issue({ email: 'two@example.com' });
        await store.createVerification(expired);
        await store.createVerification(valid);

        const atExpiry = await store.consumeToken(expired.token.key, expired.token.expiresAt);
        expect(atExpiry.kind).toBe('expired');
        expect((await store.getVerification(expired.verification.id))?.status).toBe('pending');
        const justBefore = await store.consumeToken(valid.token.key, valid.token.expiresAt - 1);
        expect(justBefore.kind).toBe('verified');
      });

      it('reports expired before verified or revoked', async () => {
        const verified = issue({ email: 'one@example.com' });
        const revoked = issue({ email: 'two@example.com' });
        await store.createVerification(verified);
        await store.createVerification(revoked);
        await store.consumeToken(verified.token.key, T0 + 1);
        await store.revoke(revoked.verification.id, T0 + 1);

        const late = T0 + TTL_MS;
        expect((await store.consumeToken(verified.token.key, late)).kind).toBe('expired');
        expect((await store.consumeToken(revoked.token.key, late)).kind).toBe('expired');
      });

      it('reports a revoked verification', async () => {
        const input = issue();
        await store.createVerification(input);
        await store.revoke(input.verification.id, T0 + 1);

        const result = await store.consumeToken(input.token.key, T0 + 2);
        expect(result).toMatchObject({ kind: 'revoked', verification: { revokedAt: T0 + 1 } });
      });

      it('accepts an older token that is still valid after a resend', async () => {
        const input = issue();
        await store.createVerification(input);
        const token = tokenFor(input.verification.id, T0 + 10);
        await store.addToken({ token, mail: mailFor(input.verification.id, 'a@b.c', T0 + 10) });

        expect((await store.consumeToken(input.token.key, T0 + 20)).kind).toBe('verified');
        expect((await store.consumeToken(token.key, T0 + 21)).kind).toBe('already_verified');
      });

      it('lets exactly one of 50 concurrent uses verify', async () => {
        const input = issue();
        await store.createVerification(input);

        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.consumeToken(input.token.key, T0 + 1)),
        );
        const kinds = results.map((result) => result.kind);
        expect(kinds.filter((kind) => kind === 'verified')).toHaveLength(1);
        expect(kinds.filter((kind) => kind === 'already_verified')).toHaveLength(49);
      });
    });

    describe('revoke', () => {
      it('revokes a pending verification once', async () => {
        const input = issue();
        await store.createVerification(input);

        expect(await store.revoke(input.verification.id, T0 + 3)).toBe(true);
        expect(await store.getVerification(input.verification.id)).toMatchObject({
          status: 'revoked',
          revokedAt: T0 + 3,
        });
        expect(await store.revoke(input.verification.id, T0 + 4)).toBe(false);
      });

      it('refuses unknown and verified verifications', async () => {
        const input = issue();
        await store.createVerification(input);
        await store.consumeToken(input.token.key, T0 + 1);

        expect(await store.revoke(input.verification.id, T0 + 2)).toBe(false);
        expect(await store.revoke('no-such-id', T0 + 2)).toBe(false);
        expect(await store.getVerification('no-such-id')).toBeNull();
      });
    });

    describe('outbox', () => {
      it('claims only due mails, up to the limit, counting the attempt', async () => {
        const inputs = [0, 1, 2].map((i) =>
          issue({ email: `u${i}@example.com`, at: T0 + i * 1000 }),
        );
        for (const input of inputs) await store.createVerification(input);

        expect(await store.claimMail(10, T0 - 1, LEASE_MS)).toEqual([]);
        const claimed = await store.claimMail(2, T0 + 5000, LEASE_MS);
        expect(claimed.map((mail) => mail.id)).toEqual([inputs[0]?.mail.id, inputs[1]?.mail.id]);
        expect(claimed.map((mail) => mail.attempts)).toEqual([1, 1]);
        expect(claimed[0]?.payload).toBe(inputs[0]?.mail.payload);
      });

      it('does not hand out a leased mail again before the lease ends, and does after', async () => {
        const input = issue();
        await store.createVerification(input);

        expect(await store.claimMail(10, T0, LEASE_MS)).toHaveLength(1);
        expect(await store.claimMail(10, T0 + LEASE_MS - 1, LEASE_MS)).toEqual([]);
        const again = await store.claimMail(10, T0 + LEASE_MS, LEASE_MS);
        expect(again.map((mail) => [mail.id, mail.attempts])).toEqual([[input.mail.id, 2]]);
      });

      it('marks a mail sent, erasing its payload', async () => {
        const input = issue();
        await store.createVerification(input);
        await store.claimMail(10, T0, LEASE_MS);

        await store.markMailSent(input.mail.id, T0 + 100);
        expect(await store.getMail(input.mail.id)).toMatchObject({
          state: 'sent',
          sentAt: T0 + 100,
          payload: null,
        });
        expect(await store.claimMail(10, T0 + 10 * LEASE_MS, LEASE_MS)).toEqual([]);
      });

      it('puts a failed mail back for its next attempt, ending the lease', async () => {
        const input = issue();
        await store.createVerification(input);
        await store.claimMail(10, T0, LEASE_MS);

        await store.markMailFailed(input.mail.id, 'connection refused', T0 + 1000, false);
        expect(await store.getMail(input.mail.id)).toMatchObject({
          state: 'pending',
          lastError: 'connection refused',
          nextAttemptAt: T0 + 1000,
          payload: input.mail.payload,
        });
        expect(await store.claimMail(10, T0 + 999, LEASE_MS)).toEqual([]);
        expect(await store.claimMail(10, T0 + 1000, LEASE_MS)).toHaveLength(1);
      });

      it('keeps a dead mail visible without its payload, and never claims it', async () => {
        const input = issue();
        await store.createVerification(input);
        await store.claimMail(10, T0, LEASE_MS);

        await store.markMailFailed(input.mail.id, '550 no such user', T0 + 1000, true);
        expect(await store.getMail(input.mail.id)).toMatchObject({
          state: 'dead',
          lastError: '550 no such user',
          payload: null,
          attempts: 1,
        });
        expect(await store.claimMail(10, T0 + 10 * LEASE_MS, LEASE_MS)).toEqual([]);
      });

      it('counts pending and dead mails', async () => {
        expect(await store.outboxDepth()).toEqual({ pending: 0, dead: 0 });
        const inputs = [0, 1, 2, 3].map((i) => issue({ email: `u${i}@example.com` }));
        for (const input of inputs) await store.createVerification(input);
        await store.markMailSent(inputs[0]!.mail.id, T0);
        await store.markMailFailed(inputs[1]!.mail.id, 'boom', T0, true);

        expect(await store.outboxDepth()).toEqual({ pending: 2, dead: 1 });
      });

      it('lists the mails of one verification, oldest first', async () => {
        const input = issue();
        await store.createVerification(input);
        const later = mailFor(input.verification.id, input.verification.email, T0 + 50);
        await store.addToken({ token: tokenFor(input.verification.id, T0 + 50), mail: later });
        await store.createVerification(issue({ email: 'other@example.com' }));

        const mails = await store.listMailsFor(input.verification.id);
        expect(mails.map((mail) => mail.id)).toEqual([input.mail.id, later.id]);
        expect(await store.listMailsFor('no-such-id')).toEqual([]);
        expect(await store.getMail('no-such-id')).toBeNull();
      });
    });

    describe('suspension', () => {
      it('reads as not suspended before anyone set it', async () => {
        expect(await store.readSuspension()).toEqual({
          suspended: false,
          until: null,
          reason: null,
          auto: false,
          since: null,
        });
      });

      it('keeps what was written last, whole', async () => {
        const first = {
          suspended: true,
          until: T0 + 60_000,
          reason: 'flood',
          auto: true,
          since: T0,
        };
        await store.writeSuspension(first);
        expect(await store.readSuspension()).toEqual(first);
        const open = { suspended: false, until: null, reason: null, auto: false, since: null };
        await store.writeSuspension(open);
        expect(await store.readSuspension()).toEqual(open);
        const manual = { suspended: true, until: null, reason: null, auto: false, since: T0 + 1 };
        await store.writeSuspension(manual);
        expect(await store.readSuspension()).toEqual(manual);
      });
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
