import { createHmac, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { JwtStrategy } from '../../../src/core/strategies/jwt.js';
import { KeyRing, type KeyRingEntry } from '../../../src/core/strategies/key-ring.js';
import type { TokenClaims } from '../../../src/core/strategies/strategy.js';
import { cryptoRandom } from '../../../src/core/system.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const TTL_MS = 24 * 3600 * 1000;
const ISSUER = 'https://mailproof.test';
const AUDIENCE = 'mailproof-verify';
const INVALID = { ok: false, reason: 'invalid' };

const CLAIMS: TokenClaims = {
  verificationId: 'vf_AAAAAAAAAAAAAAAAAAAAAA',
  purpose: 'signup',
  issuedAt: NOW,
  expiresAt: NOW + TTL_MS,
};

function entry(kid: string, createdAt = NOW, retired = false): KeyRingEntry {
  return { kid, ...generateKeyPairSync('ed25519'), createdAt, retired };
}

function strategy(entries: KeyRingEntry[], options: { issuer?: string; audience?: string } = {}) {
  return new JwtStrategy({
    keyRing: new KeyRing(entries),
    issuer: options.issuer ?? ISSUER,
    audience: options.audience ?? AUDIENCE,
    random: cryptoRandom,
  });
}

const KEY = entry('key-1');
const jwt = strategy([KEY]);

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decode(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

/** Signs any header and claims as EdDSA: lets a test forge what jose would not produce. */
function signed(
  header: object,
  claims: object,
  privateKey: KeyObject = KEY.privateKey as KeyObject,
) {
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
}

const HEADER = { alg: 'EdDSA', typ: 'mailproof-verify+jwt', kid: 'key-1' };
const PAYLOAD = {
  vid: CLAIMS.verificationId,
  pur: 'signup',
  jti: randomBytes(16).toString('base64url'),
  iat: NOW / 1000,
  exp: (NOW + TTL_MS) / 1000,
  iss: ISSUER,
  aud: AUDIENCE,
};

async function mint(): Promise<{ token: string; header: string; payload: string; sig: string }> {
  const { token } = await jwt.mint(CLAIMS);
  const [header = '', payload = '', sig = ''] = token.split('.');
  return { token, header, payload, sig };
}

describe('JwtStrategy: minting and checking', () => {
  it('round-trips: the key is the jti, the verification id comes back', async () => {
    const minted = await jwt.mint(CLAIMS);
    expect(minted.token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(minted.key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await jwt.check(minted.token, NOW)).toEqual({
      ok: true,
      key: minted.key,
      verificationId: CLAIMS.verificationId,
    });
  });

  it('mints the pinned header and only the claims it needs (no personal data)', async () => {
    const { token, header, payload } = await mint();
    expect(decode(header)).toEqual(HEADER);
    const claims = decode(payload);
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'pur', 'vid']);
    expect(claims).toMatchObject({
      vid: CLAIMS.verificationId,
      pur: 'signup',
      iat: NOW / 1000,
      exp: (NOW + TTL_MS) / 1000,
      iss: ISSUER,
      aud: AUDIENCE,
    });
    expect(token.length).toBeLessThan(1024);
  });

  it('mints a fresh jti from the random port each time', async () => {
    const a = await jwt.mint(CLAIMS);
    const b = await jwt.mint(CLAIMS);
    expect(a.key).not.toBe(b.key);
    const seeded = new JwtStrategy({
      keyRing: new KeyRing([KEY]),
      issuer: ISSUER,
      audience: AUDIENCE,
      random: { bytes: (size) => Buffer.alloc(size, 7) },
    });
    expect((await seeded.mint(CLAIMS)).key).toBe(Buffer.alloc(16, 7).toString('base64url'));
  });

  it('carries the purpose', async () => {
    const { token } = await jwt.mint({ ...CLAIMS, purpose: 'email-change' });
    expect(decode(token.split('.')[1] ?? '').pur).toBe('email-change');
    expect((await jwt.check(token, NOW)).ok).toBe(true);
  });

  it('expires exactly at exp against the given instant', async () => {
    const { token } = await jwt.mint(CLAIMS);
    expect((await jwt.check(token, CLAIMS.expiresAt - 1)).ok).toBe(true);
    expect(await jwt.check(token, CLAIMS.expiresAt)).toEqual({
      ok: false,
      reason: 'expired',
      verificationId: CLAIMS.verificationId,
    });
    expect((await jwt.check(token, CLAIMS.expiresAt + 365 * TTL_MS)).ok).toBe(false);
  });

  it('never lets a token outlive its record: exp is rounded down to the second', async () => {
    const { token } = await jwt.mint({ ...CLAIMS, expiresAt: CLAIMS.expiresAt + 999 });
    expect((await jwt.check(token, CLAIMS.expiresAt)).ok).toBe(false);
  });

  it('says expired of a genuine token signed long ago', async () => {
    const old = signed(HEADER, { ...PAYLOAD, iat: NOW / 1000 - 7200, exp: NOW / 1000 - 3600 });
    expect(await jwt.check(old, NOW)).toEqual({
      ok: false,
      reason: 'expired',
      verificationId: CLAIMS.verificationId,
    });
  });

  it('verifies a token minted by key A after rotation to key B', async () => {
    const a = entry('A', NOW - 1000);
    const b = entry('B', NOW);
    const before = strategy([a]);
    const after = strategy([a, b]);
    const minted = await before.mint(CLAIMS);
    expect((await after.check(minted.token, NOW)).ok).toBe(true);
    const fresh = await after.mint(CLAIMS);
    expect(decode(fresh.token.split('.')[0] ?? '').kid).toBe('B');
    expect((await after.check(fresh.token, NOW)).ok).toBe(true);
  });

  it('refuses the tokens of a retired key', async () => {
    const a = entry('A', NOW - 1000);
    const b = entry('B', NOW);
    const { token } = await strategy([a]).mint(CLAIMS);
    const retired = strategy([{ ...a, retired: true }, b]);
    expect(await retired.check(token, NOW)).toEqual(INVALID);
  });

  it('mints standard JWTs that jose verifies against the published JWKS', async () => {
    const ring = new KeyRing([KEY]);
    const { token } = await jwt.mint(CLAIMS);
    const { payload, protectedHeader } = await jwtVerify(
      token,
      createLocalJWKSet(ring.jwks() as never),
      {
        algorithms: ['EdDSA'],
        typ: 'mailproof-verify+jwt',
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: new Date(NOW),
      },
    );
    expect(protectedHeader.kid).toBe('key-1');
    expect(payload.vid).toBe(CLAIMS.verificationId);
  });

  it('refuses to mint what it could not check', async () => {
    await expect(jwt.mint({ ...CLAIMS, verificationId: 'has spaces' })).rejects.toThrow();
    await expect(jwt.mint({ ...CLAIMS, purpose: 'other' as never })).rejects.toThrow();
    const shortRandom = new JwtStrategy({
      keyRing: new KeyRing([KEY]),
      issuer: ISSUER,
      audience: AUDIENCE,
      random: { bytes: () => Buffer.alloc(4) },
    });
    await expect(shortRandom.mint(CLAIMS)).rejects.toThrow();
  });
});

describe('JwtStrategy: every forgery is invalid', () => {
  it.each(['none', 'None', 'NONE', 'nOnE'])('alg %s with an empty signature', async (alg) => {
    const token = `${encode({ ...HEADER, alg })}.${encode(PAYLOAD)}.`;
    expect(await jwt.check(token, NOW)).toEqual(INVALID);
    // and with the genuine signature of the EdDSA token left in place
    const { payload, sig } = await mint();
    expect(await jwt.check(`${encode({ ...HEADER, alg })}.${payload}.${sig}`, NOW)).toEqual(
      INVALID,
    );
    // and even with a header our own key signed
    expect(await jwt.check(signed({ ...HEADER, alg }, PAYLOAD), NOW)).toEqual(INVALID);
  });

  it('any alg but EdDSA, even when our key signed the header', async () => {
    for (const alg of ['Ed25519', 'eddsa', 'HS256', 'ES256', '', null]) {
      expect(await jwt.check(signed({ ...HEADER, alg }, PAYLOAD), NOW)).toEqual(INVALID);
    }
  });

  it('HS256 signed with the public key as the HMAC secret (algorithm confusion)', async () => {
    const publicKey = KEY.publicKey as KeyObject;
    const secrets = [
      publicKey.export({ format: 'pem', type: 'spki' }),
      publicKey.export({ format: 'der', type: 'spki' }),
      Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url'),
      JSON.stringify(new KeyRing([KEY]).jwks().keys[0]),
    ];
    for (const secret of secrets) {
      const input = `${encode({ ...HEADER, alg: 'HS256' })}.${encode(PAYLOAD)}`;
      const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      expect(await jwt.check(token, NOW)).toEqual(INVALID);
    }
  });

  it('a foreign Ed25519 key using our kid', async () => {
    const foreign = generateKeyPairSync('ed25519').privateKey;
    expect(await jwt.check(signed(HEADER, PAYLOAD, foreign), NOW)).toEqual(INVALID);
  });

  it("an embedded jwk header carrying the attacker's own key", async () => {
    const attacker = generateKeyPairSync('ed25519');
    const jwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'key-1' };
    expect(await jwt.check(signed({ ...HEADER, jwk }, PAYLOAD, attacker.privateKey), NOW)).toEqual(
      INVALID,
    );
    const { kid: _, ...noKid } = HEADER;
    expect(await jwt.check(signed({ ...noKid, jwk }, PAYLOAD, attacker.privateKey), NOW)).toEqual(
      INVALID,
    );
  });

  it('a jku header pointing at a key set of the attacker', async () => {
    const attacker = generateKeyPairSync('ed25519').privateKey;
    const jku = 'https://attacker.test/jwks.json';
    expect(await jwt.check(signed({ ...HEADER, jku }, PAYLOAD, attacker), NOW)).toEqual(INVALID);
    // even with our own signature, a header we do not mint is refused
    expect(await jwt.check(signed({ ...HEADER, jku }, PAYLOAD), NOW)).toEqual(INVALID);
  });

  it('an unknown crit header, even when our key signed it', async () => {
    const header = { ...HEADER, crit: ['urn:x-attack'], 'urn:x-attack': true };
    expect(await jwt.check(signed(header, PAYLOAD), NOW)).toEqual(INVALID);
  });

  it.each([
    ['vid', 'vf_BBBBBBBBBBBBBBBBBBBBBB'],
    ['exp', (NOW + 365 * TTL_MS) / 1000],
    ['pur', 'email-change'],
    ['aud', 'someone-else'],
    ['iss', 'https://attacker.test'],
    ['jti', randomBytes(16).toString('base64url')],
  ])('the %s claim edited after signing', async (claim, value) => {
    const { header, payload, sig } = await mint();
    const edited = encode({ ...decode(payload), [claim]: value });
    expect(await jwt.check(`${header}.${edited}.${sig}`, NOW)).toEqual(INVALID);
  });

  it('the header edited after signing', async () => {
    const { payload, sig } = await mint();
    const header = encode({ ...HEADER, kid: 'key-1', extra: 1 });
    expect(await jwt.check(`${header}.${payload}.${sig}`, NOW)).toEqual(INVALID);
  });

  it('a truncated signature', async () => {
    const { token } = await mint();
    expect(await jwt.check(token.slice(0, -1), NOW)).toEqual(INVALID);
    expect(await jwt.check(token.slice(0, -10), NOW)).toEqual(INVALID);
  });

  it('an empty signature', async () => {
    const { header, payload } = await mint();
    expect(await jwt.check(`${header}.${payload}.`, NOW)).toEqual(INVALID);
  });

  it('a flipped signature bit', async () => {
    const { header, payload, sig } = await mint();
    const bytes = Buffer.from(sig, 'base64url');
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    expect(await jwt.check(`${header}.${payload}.${bytes.toString('base64url')}`, NOW)).toEqual(
      INVALID,
    );
  });

  it('a signature spelled with non-zero padding bits', async () => {
    const { header, payload, sig } = await mint();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.slice(-1));
    for (let bits = 1; bits < 16; bits++) {
      const respelled = `${sig.slice(0, -1)}${alphabet[last + bits]}`;
      expect(Buffer.from(respelled, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
      expect(await jwt.check(`${header}.${payload}.${respelled}`, NOW)).toEqual(INVALID);
    }
  });

  it('a wrong typ, even when our key signed it', async () => {
    for (const typ of [
      'JWT',
      'at+jwt',
      'MAILPROOF-VERIFY+JWT',
      'application/mailproof-verify+jwt',
    ]) {
      expect(await jwt.check(signed({ ...HEADER, typ }, PAYLOAD), NOW)).toEqual(INVALID);
    }
  });

  it('a missing typ, even when our key signed it', async () => {
    const { typ: _, ...header } = HEADER;
    expect(await jwt.check(signed(header, PAYLOAD), NOW)).toEqual(INVALID);
  });

  it('a wrong aud, even when our key signed it', async () => {
    const other = strategy([KEY], { audience: 'another-service' });
    expect(await jwt.check((await other.mint(CLAIMS)).token, NOW)).toEqual(INVALID);
    expect(await jwt.check(signed(HEADER, { ...PAYLOAD, aud: [AUDIENCE, 'x'] }), NOW)).toEqual(
      INVALID,
    );
  });

  it('a wrong iss, even when our key signed it', async () => {
    const other = strategy([KEY], { issuer: 'https://elsewhere.test' });
    expect(await jwt.check((await other.mint(CLAIMS)).token, NOW)).toEqual(INVALID);
  });

  it.each(['exp', 'iat', 'jti', 'vid', 'pur', 'iss', 'aud'])(
    'a missing %s claim, even when our key signed it',
    async (claim) => {
      const { [claim as keyof typeof PAYLOAD]: _, ...rest } = PAYLOAD;
      expect(await jwt.check(signed(HEADER, rest), NOW)).toEqual(INVALID);
    },
  );

  it.each([
    ['exp as a string', { exp: String(PAYLOAD.exp) }],
    ['exp as a fraction', { exp: PAYLOAD.exp + 0.5 }],
    ['iat as null', { iat: null }],
    ['vid as a number', { vid: 42 }],
    ['vid too long', { vid: 'v'.repeat(65) }],
    ['jti too short', { jti: 'abc' }],
    ['jti as an array', { jti: [PAYLOAD.jti] }],
    ['an unknown purpose', { pur: 'admin' }],
  ])('claims of the wrong type (%s), even when our key signed them', async (_, change) => {
    expect(await jwt.check(signed(HEADER, { ...PAYLOAD, ...change }), NOW)).toEqual(INVALID);
  });

  it('a claims set that is not an object, even when our key signed it', async () => {
    for (const claims of [[PAYLOAD], 'text', 42, null]) {
      const input = `${encode(HEADER)}.${encode(claims)}`;
      const token = `${input}.${sign(null, Buffer.from(input), KEY.privateKey as KeyObject).toString('base64url')}`;
      expect(await jwt.check(token, NOW)).toEqual(INVALID);
    }
  });

  it('an oversized token (10 KB), even when our key signed it', async () => {
    const token = signed(HEADER, { ...PAYLOAD, pad: 'x'.repeat(10 * 1024) });
    expect(await jwt.check(token, NOW)).toEqual(INVALID);
    expect(await jwt.check('a'.repeat(10 * 1024), NOW)).toEqual(INVALID);
  });

  it('an unknown kid', async () => {
    const stranger = entry('stranger');
    const token = signed({ ...HEADER, kid: 'stranger' }, PAYLOAD, stranger.privateKey as KeyObject);
    expect(await jwt.check(token, NOW)).toEqual(INVALID);
    for (const kid of [undefined, 42, null, '', '__proto__', 'constructor']) {
      expect(await jwt.check(signed({ ...HEADER, kid }, PAYLOAD), NOW)).toEqual(INVALID);
    }
  });

  it.each([
    ['garbage', 'not a token'],
    ['the empty string', ''],
    ['dots only', '..'],
    ['two segments', 'eyJhbGciOiJFZERTQSJ9.eyJ2aWQiOiJ4In0'],
    ['unicode', 'ëÿ.ëÿ.ëÿ'],
    ['a line break', 'a.b.c\n'],
  ])('a malformed string: %s', async (_, token) => {
    expect(await jwt.check(token, NOW)).toEqual(INVALID);
  });

  it('two segments of a genuine token', async () => {
    const { header, payload } = await mint();
    expect(await jwt.check(`${header}.${payload}`, NOW)).toEqual(INVALID);
  });

  it('four segments', async () => {
    const { token } = await mint();
    expect(await jwt.check(`${token}.AAAA`, NOW)).toEqual(INVALID);
    expect(await jwt.check(`AAAA.${token}`, NOW)).toEqual(INVALID);
  });

  it('non-base64url characters', async () => {
    const { header, payload, sig } = await mint();
    for (const token of [
      `${header}=.${payload}.${sig}`,
      `${header}.${payload}+.${sig}`,
      `${header}.${payload}.${sig.slice(0, -1)}/`,
      `${header} .${payload}.${sig}`,
      `${header}.${payload}.${sig}=`,
    ]) {
      expect(await jwt.check(token, NOW)).toEqual(INVALID);
    }
  });

  it('segments that are base64url but not JSON', async () => {
    const junk = randomBytes(40).toString('base64url');
    const { payload, sig } = await mint();
    expect(await jwt.check(`${junk}.${payload}.${sig}`, NOW)).toEqual(INVALID);
    expect(await jwt.check(`${encode(HEADER)}.${junk}.${sig}`, NOW)).toEqual(INVALID);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', {}],
    ['an array', ['a.b.c']],
    ['a boxed string', Object('a.b.c')],
  ])('a non-string input: %s', async (_, input) => {
    expect(await jwt.check(input as string, NOW)).toEqual(INVALID);
  });
});
