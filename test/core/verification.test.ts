import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import type { Store } from '../../src/core/ports.js';
import type { TokenStrategy } from '../../src/core/strategies/strategy.js';
import { makeLifecycle, makeStrategy, strategyNames } from '../support/lifecycle.js';
import { type OpenedStore, storeKinds } from '../support/stores.js';

const TTL_SECONDS = 3600;

/** Counts the store calls a verify makes, to prove what is refused before the store. */
function countingStore(store: Store) {
  const calls = { consumeToken: 0 };
  const consumeToken: Store['consumeToken'] = (key, now) => {
    calls.consumeToken++;
    return store.consumeToken(key, now);
  };
  const counted = new Proxy(store, {
    get(target, property) {
      if (property === 'consumeToken') return consumeToken;
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: counted, calls };
}

describe.each(storeKinds)('lifecycle on $name', (kind) => {
  describe.each(strategyNames)('with the %s strategy', (strategyName) => {
    let opened: OpenedStore;
    let strategy: TokenStrategy;
    let counted: ReturnType<typeof countingStore>;
    let life: ReturnType<typeof makeLifecycle>;

    beforeEach(async () => {
      opened = await kind.open();
      strategy = makeStrategy(strategyName);
      counted = countingStore(opened.store);
      life = makeLifecycle(counted.store, strategy, TTL_SECONDS);
    });

    afterEach(async () => {
      await opened.cleanup();
    });

    it('issues, commits one mail, and verifies once', async () => {
      const { verifications, clock } = life;
      const issued = await verifications.issue({ email: ' Ada@Example.COM ', subject: 'user-1' });
      expect(issued).toEqual({
        id: expect.stringMatching(/^vf_[A-Za-z0-9_-]{22}$/),
        email: 'Ada@Example.COM',
        expiresAt: clock.now() + TTL_SECONDS * 1000,
        strategy: strategyName,
      });
      const mails = await opened.store.listMailsFor(issued.id);
      expect(mails).toHaveLength(1);
      expect(mails[0]).toMatchObject({ recipient: 'Ada@Example.COM', state: 'pending' });

      const token = await life.lastToken(issued.id);
      expect(token).toMatch(/^[A-Za-z0-9_.-]+$/);
      expect(mails[0]!.payload).not.toContain(token);

      clock.advance(5000);
      const first = await verifications.verify(token);
      expect(first).toEqual({
        status: 'verified',
        id: issued.id,
        email: 'Ada@Example.COM',
        subject: 'user-1',
        verifiedAt: clock.now(),
      });
      clock.advance(1000);
      expect(await verifications.verify(token)).toEqual({ ...first, status: 'already_verified' });

      expect(await verifications.status(issued.id)).toMatchObject({
        status: 'verified',
        verifiedAt: first.status === 'verified' ? first.verifiedAt : -1,
        purpose: 'signup',
      });
    });

    it('gives exactly one verified to 50 concurrent verifications of one token', async () => {
      const { id } = await life.verifications.issue({ email: 'race@example.com' });
      const token = await life.lastToken(id);
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, () => life.verifications.verify(token)),
      );
      const counts = outcomes.reduce<Record<string, number>>((acc, o) => {
        acc[o.status] = (acc[o.status] ?? 0) + 1;
        return acc;
      }, {});
      expect(counts).toEqual({ verified: 1, already_verified: 49 });
    });

    it('revokes the pending verification a new one for the same subject and purpose supersedes', async () => {
      const { verifications } = life;
      const old = await verifications.issue({ email: 'a@example.com', subject: 'u1' });
      const oldToken = await life.lastToken(old.id);
      const fresh = await verifications.issue({ email: 'b@example.com', subject: 'u1' });
      expect(await verifications.verify(oldToken)).toEqual({ status: 'revoked', id: old.id });
      expect((await verifications.status(old.id))?.status).toBe('revoked');
      expect((await verifications.verify(await life.lastToken(fresh.id))).status).toBe('verified');
    });

    it('supersedes by email and purpose when there is no subject, never across purposes or subjects', async () => {
      const { verifications } = life;
      const signup = await verifications.issue({ email: 'c@Example.com' });
      const change = await verifications.issue({ email: 'c@example.com', purpose: 'email-change' });
      const other = await verifications.issue({ email: 'c@example.com', subject: 'someone' });
      const again = await verifications.issue({ email: 'c@EXAMPLE.com' });
      expect((await verifications.status(signup.id))?.status).toBe('revoked');
      for (const { id } of [change, other, again]) {
        expect((await verifications.status(id))?.status).toBe('pending');
      }
    });

    it('resends a fresh token while the earlier one stays valid, and both are single-use together', async () => {
      const { verifications, clock } = life;
      const { id } = await verifications.issue({ email: 'r@example.com' });
      const first = await life.lastToken(id);
      clock.advance(60_000);
      await verifications.resend('r@EXAMPLE.com');
      const tokens = await life.mailedTokens(id);
      expect(tokens).toHaveLength(2);
      expect(tokens[1]).not.toBe(first);
      expect((await verifications.status(id))?.expiresAt).toBe(clock.now() + TTL_SECONDS * 1000);
      expect((await verifications.verify(first)).status).toBe('verified');
      expect((await verifications.verify(tokens[1]!)).status).toBe('already_verified');
    });

    it('resend for an address with nothing pending commits nothing', async () => {
      const { id } = await life.verifications.issue({ email: 'known@example.com' });
      await life.verifications.verify(await life.lastToken(id));
      await life.verifications.resend('known@example.com');
      await life.verifications.resend('nobody@example.com');
      expect(await opened.store.listMailsFor(id)).toHaveLength(1);
      expect(await opened.store.outboxDepth()).toEqual({ pending: 1, dead: 0 });
    });

    it('expires on the frozen clock, to the millisecond', async () => {
      const { verifications, clock } = life;
      const { id, expiresAt } = await verifications.issue({ email: 'e@example.com' });
      const token = await life.lastToken(id);
      clock.set(expiresAt - 1);
      expect((await verifications.status(id))?.status).toBe('pending');
      clock.set(expiresAt);
      expect((await verifications.status(id))?.status).toBe('expired');
      const outcome = await verifications.verify(token);
      expect(outcome).toEqual({ status: 'expired', id });
    });

    it('revokes on request: its tokens answer revoked', async () => {
      const { verifications } = life;
      const { id } = await verifications.issue({ email: 'x@example.com' });
      expect(await verifications.revoke(id)).toBe('revoked');
      expect(await verifications.revoke(id)).toBe('not_pending');
      expect(await verifications.revoke('vf_nope')).toBe('not_found');
      expect(await verifications.verify(await life.lastToken(id))).toEqual({
        status: 'revoked',
        id,
      });
      expect(await verifications.status(id)).toMatchObject({
        status: 'revoked',
        revokedAt: life.clock.now(),
      });
    });

    it('answers null for an unknown or absurd id', async () => {
      expect(await life.verifications.status('vf_unknown')).toBeNull();
      expect(await life.verifications.status('x'.repeat(10_000))).toBeNull();
      expect(await life.verifications.revoke('')).toBe('not_found');
    });

    it.each([
      ['a non-object', 'a@example.com', 'invalid_request'],
      ['null', null, 'invalid_request'],
      ['an array', ['a@example.com'], 'invalid_request'],
      ['no email', { subject: 's' }, 'invalid_email'],
      ['a bad email', { email: 'not-an-email' }, 'invalid_email'],
      ['a display name', { email: 'Ada <a@example.com>' }, 'invalid_email'],
      ['two addresses', { email: 'a@example.com,b@example.com' }, 'invalid_email'],
      ['a header injection', { email: 'a@example.com\r\nBcc: b@example.com' }, 'invalid_email'],
      ['a numeric email', { email: 42 }, 'invalid_email'],
      ['a long subject', { email: 'a@example.com', subject: 's'.repeat(129) }, 'invalid_request'],
      ['an empty subject', { email: 'a@example.com', subject: '' }, 'invalid_request'],
      [
        'a control character in subject',
        { email: 'a@example.com', subject: 'a\nb' },
        'invalid_request',
      ],
      ['a numeric subject', { email: 'a@example.com', subject: 7 }, 'invalid_request'],
      ['an unknown purpose', { email: 'a@example.com', purpose: 'login' }, 'invalid_request'],
    ])('refuses %s with a typed error and stores nothing', async (_, input, code) => {
      await expect(life.verifications.issue(input)).rejects.toSatisfy(
        (error) => error instanceof InvalidInputError && error.code === code,
      );
      expect(await opened.store.outboxDepth()).toEqual({ pending: 0, dead: 0 });
    });

    it('accepts the longest subject and ignores unknown fields', async () => {
      const issued = await life.verifications.issue({
        email: 'a@example.com',
        subject: 's'.repeat(128),
        extra: { nested: true },
      });
      expect((await life.verifications.status(issued.id))?.subject).toBe('s'.repeat(128));
    });

    it('refuses a malformed resend address with a typed error', async () => {
      await expect(life.verifications.resend('nope')).rejects.toBeInstanceOf(InvalidInputError);
      await expect(life.verifications.resend(undefined)).rejects.toBeInstanceOf(InvalidInputError);
    });

    it.each([
      ['empty', ''],
      ['garbage', 'hello world'],
      ['oversized', 'a'.repeat(100_000)],
      ['a non-string', 12345],
      ['undefined', undefined],
      ['an object', { token: 'x' }],
    ])('answers invalid for %s input without reading the store', async (_, token) => {
      expect(await life.verifications.verify(token)).toEqual({ status: 'invalid' });
      expect(counted.calls.consumeToken).toBe(0);
    });

    it('answers invalid for a well-formed token it never issued', async () => {
      const { id } = await life.verifications.issue({ email: 'f@example.com' });
      const token = await life.lastToken(id);
      const forged =
        strategyName === 'opaque'
          ? `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`
          : `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      expect(await life.verifications.verify(forged)).toEqual({ status: 'invalid' });
      // A forged JWT is refused by its signature alone; an opaque token needs the lookup.
      expect(counted.calls.consumeToken).toBe(strategyName === 'jwt' ? 0 : 1);
      expect((await life.verifications.verify(token)).status).toBe('verified');
    });
  });
});
