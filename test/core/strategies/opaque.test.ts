import { describe, expect, it } from 'vitest';
import { hashToken, OpaqueStrategy } from '../../../src/core/strategies/opaque.js';
import { cryptoRandom } from '../../../src/core/system.js';

describe('OpaqueStrategy', () => {
  const strategy = new OpaqueStrategy({ random: cryptoRandom });

  it('mints 256-bit URL-safe tokens keyed by their SHA-256', async () => {
    const { token, key } = await strategy.mint();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(key).toBe(hashToken(token));
    expect(key).not.toContain(token);
  });

  it('never mints the same token twice', async () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 1000; i++) tokens.add((await strategy.mint()).token);
    expect(tokens.size).toBe(1000);
  });

  it('hands a well-formed token to the store by its hash', async () => {
    const { token, key } = await strategy.mint();
    expect(await strategy.check(token)).toEqual({ ok: true, key });
  });

  it.each([
    ['empty', ''],
    ['one short', 'a'.repeat(42)],
    ['one long', 'a'.repeat(44)],
    ['oversized', 'a'.repeat(100_000)],
    ['padding', `${'a'.repeat(42)}=`],
    ['standard base64 alphabet', `${'a'.repeat(42)}+`],
    ['whitespace', ` ${'a'.repeat(42)}`],
    ['a JWT', 'eyJhbGciOiJFZERTQSJ9.eyJ4IjoxfQ.c2ln'],
  ])('refuses a malformed token (%s) as invalid without throwing', async (_, token) => {
    expect(await strategy.check(token)).toEqual({ ok: false, reason: 'invalid' });
  });

  it.each([undefined, null, 42, {}, ['x']])(
    'refuses a non-string (%s) as invalid',
    async (value) => {
      expect(await strategy.check(value as unknown as string)).toEqual({
        ok: false,
        reason: 'invalid',
      });
    },
  );
});
