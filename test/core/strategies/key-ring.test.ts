import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { MailproofError } from '../../../src/core/errors.js';
import { KeyRing, type KeyRingEntry } from '../../../src/core/strategies/key-ring.js';

const T0 = Date.UTC(2026, 0, 1);

function key(
  kid: string,
  createdAt: number,
  extra: { retired?: boolean } = {},
): KeyRingEntry & { privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { kid, privateKey, publicKey, createdAt, ...extra };
}

describe('KeyRing', () => {
  it('signs with the newest active key and verifies with every active key', () => {
    const a = key('a', T0);
    const b = key('b', T0 + 1000);
    const c = key('c', T0 + 2000, { retired: true });
    const ring = new KeyRing([a, b, c]);
    expect(ring.signer.kid).toBe('b');
    expect(ring.verificationKey('a')).toBeDefined();
    expect(ring.verificationKey('b')).toBeDefined();
    expect(ring.verificationKey('c')).toBeUndefined();
    expect(ring.verificationKey('unknown')).toBeUndefined();
  });

  it('lets the first listed key sign among keys of equal age', () => {
    const ring = new KeyRing([key('first', T0), key('second', T0)]);
    expect(ring.signer.kid).toBe('first');
  });

  it('passes over a newer key kept without its private part', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const ring = new KeyRing([key('old', T0), { kid: 'public', publicKey, createdAt: T0 + 1 }]);
    expect(ring.signer.kid).toBe('old');
    expect(ring.verificationKey('public')).toBeDefined();
  });

  it('publishes only the public parts of the active keys, with their kids', () => {
    const a = key('a', T0);
    const ring = new KeyRing([a, key('b', T0 + 1), key('gone', T0 + 2, { retired: true })]);
    const { keys } = ring.jwks();
    expect(keys.map((jwk) => jwk.kid)).toEqual(['a', 'b']);
    for (const jwk of keys) {
      expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(jwk).not.toHaveProperty('d');
    }
    expect(keys[0]?.x).toBe(a.publicKey.export({ format: 'jwk' }).x);
    expect(JSON.stringify(ring.jwks())).not.toContain(a.privateKey?.export({ format: 'jwk' }).d);
    expect(Object.isFrozen(ring.jwks().keys[0])).toBe(true);
  });

  it('accepts WebCrypto keys as jose generates them', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA');
    const ring = new KeyRing([{ kid: 'web', privateKey, publicKey, createdAt: T0 }]);
    expect(ring.signer.kid).toBe('web');
    expect(ring.jwks().keys).toHaveLength(1);
  });

  it('lists every key without key material', () => {
    const ring = new KeyRing([key('a', T0), key('b', T0 + 1, { retired: true })]);
    expect(ring.list()).toEqual([
      { kid: 'a', createdAt: T0, retired: false, signing: true, hasPrivateKey: true },
      { kid: 'b', createdAt: T0 + 1, retired: true, signing: false, hasPrivateKey: true },
    ]);
  });

  it.each([
    [
      'a key that is not Ed25519',
      () => [{ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }), kid: 'ec', createdAt: T0 }],
    ],
    [
      'a private key that does not match its public key',
      () => [{ ...key('a', T0), publicKey: generateKeyPairSync('ed25519').publicKey }],
    ],
    [
      'a public key given as the private key',
      () => [{ ...key('a', T0), privateKey: generateKeyPairSync('ed25519').publicKey }],
    ],
    ['two keys with one kid', () => [key('same', T0), key('same', T0 + 1)]],
    ['an empty kid', () => [key('', T0)]],
    ['a kid with spaces', () => [key('a b', T0)]],
    ['only retired keys', () => [key('a', T0, { retired: true })]],
    ['no key at all', () => []],
  ])('refuses %s', (_, entries) => {
    expect(() => new KeyRing(entries())).toThrow(MailproofError);
    try {
      new KeyRing(entries());
    } catch (error) {
      expect((error as MailproofError).code).toBe('invalid_config');
    }
  });
});
