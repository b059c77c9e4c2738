import { generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { JwtStrategy } from '../../src/core/strategies/jwt.js';
import type { KeyRing } from '../../src/core/strategies/key-ring.js';
import { cryptoRandom } from '../../src/core/system.js';
import { generateKey, loadKeyRing, readStoredKeys, rotateKeys } from '../../src/keys/load-keys.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const DAY_MS = 24 * 3600 * 1000;

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mailproof-keys-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function pem(): { pem: string; privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    privateKey,
    publicKey,
  };
}

function privateJwk(kid?: string) {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { ...privateKey.export({ format: 'jwk' }), ...(kid ? { kid } : {}) };
}

/** Proves the ring's signer is the given key: it signs, the key's public half verifies. */
function signsWith(ring: KeyRing, publicKey: KeyObject): boolean {
  const data = Buffer.from('probe');
  return verify(null, data, publicKey, sign(null, data, ring.signer.privateKey));
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('loadKeyRing: generated keys in the data dir', () => {
  it('generates a key on first start and reuses it on the next', async () => {
    const first = await loadKeyRing({ dataDir, generateIfMissing: true, now: NOW });
    const second = await loadKeyRing({ dataDir, generateIfMissing: true, now: NOW + DAY_MS });
    expect(second.signer.kid).toBe(first.signer.kid);
    expect(second.jwks()).toEqual(first.jwks());
    expect(await readdir(join(dataDir, 'keys'))).toEqual([`${first.signer.kid}.jwk.json`]);
  });

  it('keeps the key readable by its owner only', async () => {
    const ring = await loadKeyRing({ dataDir, generateIfMissing: true, now: NOW });
    const file = await stat(join(dataDir, 'keys', `${ring.signer.kid}.jwk.json`));
    const folder = await stat(join(dataDir, 'keys'));
    expect(file.mode & 0o777).toBe(0o600);
    expect(folder.mode & 0o777).toBe(0o700);
  });

  it('writes a key file with metadata beside a private JWK', async () => {
    const ring = await loadKeyRing({ dataDir, generateIfMissing: true, now: NOW });
    const file = JSON.parse(
      await readFile(join(dataDir, 'keys', `${ring.signer.kid}.jwk.json`), 'utf8'),
    );
    expect(file).toMatchObject({
      format: 'mailproof-signing-key/1',
      kid: ring.signer.kid,
      createdAt: NOW,
      jwk: { kty: 'OKP', crv: 'Ed25519', kid: ring.signer.kid, alg: 'EdDSA', use: 'sig' },
    });
    expect(typeof file.jwk.d).toBe('string');
    expect(file.jwk.x).toBe(ring.jwks().keys[0]?.x);
  });

  it('refuses to start without a key when generation is off', async () => {
    const error = await configError(loadKeyRing({ dataDir, generateIfMissing: false, now: NOW }));
    expect(error.variable).toBe('MAILPROOF_SIGNING_KEYS');
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('ignores the temporary file a crash left behind', async () => {
    const ring = await loadKeyRing({ dataDir, generateIfMissing: true, now: NOW });
    await writeFile(join(dataDir, 'keys', `.${ring.signer.kid}.0123.tmp`), '{"half');
    const again = await loadKeyRing({ dataDir, generateIfMissing: false, now: NOW });
    expect(again.signer.kid).toBe(ring.signer.kid);
  });

  it('names the file of a damaged key', async () => {
    const ring = await loadKeyRing({ dataDir, generateIfMissing: true, now: NOW });
    const path = join(dataDir, 'keys', `${ring.signer.kid}.jwk.json`);
    await writeFile(path, '{"format":"mailproof-signing-key/1"}');
    const error = await configError(loadKeyRing({ dataDir, generateIfMissing: true, now: NOW }));
    expect(error.message).toContain(path);
  });
});

describe('rotateKeys', () => {
  it('makes the new key sign while the old one still verifies, until retired', async () => {
    const before = await loadKeyRing({ dataDir, generateIfMissing: true, now: NOW });
    const old = new JwtStrategy({
      keyRing: before,
      issuer: 'iss',
      audience: 'aud',
      random: cryptoRandom,
    });
    const claims = { verificationId: 'vf_1', purpose: 'signup' as const };
    const { token } = await old.mint({ ...claims, issuedAt: NOW, expiresAt: NOW + DAY_MS });

    const { created, retiring } = await rotateKeys({
      dataDir,
      now: NOW + 1000,
      retireAfterMs: DAY_MS,
    });
    expect(retiring.map((key) => key.kid)).toEqual([before.signer.kid]);

    const after = await loadKeyRing({ dataDir, generateIfMissing: true, now: NOW + 2000 });
    expect(after.signer.kid).toBe(created.kid);
    const rotated = new JwtStrategy({
      keyRing: after,
      issuer: 'iss',
      audience: 'aud',
      random: cryptoRandom,
    });
    expect((await rotated.check(token, NOW + 2000)).ok).toBe(true);

    const later = await loadKeyRing({ dataDir, generateIfMissing: true, now: NOW + 1000 + DAY_MS });
    expect(later.verificationKey(before.signer.kid)).toBeUndefined();
    expect(later.list().find((key) => key.kid === before.signer.kid)?.retired).toBe(true);
    expect(later.signer.kid).toBe(created.kid);
  });

  it('without retireAfterMs keeps every older key verifying', async () => {
    await rotateKeys({ dataDir, now: NOW });
    await rotateKeys({ dataDir, now: NOW + 1 });
    const { created } = await rotateKeys({ dataDir, now: NOW + 2 });
    const ring = await loadKeyRing({ dataDir, generateIfMissing: false, now: NOW + 10 * DAY_MS });
    expect(ring.jwks().keys).toHaveLength(3);
    expect(ring.signer.kid).toBe(created.kid);
  });

  it('gives the new key the lead even when the clock went back', async () => {
    await rotateKeys({ dataDir, now: NOW });
    const { created } = await rotateKeys({ dataDir, now: NOW - DAY_MS });
    const ring = await loadKeyRing({ dataDir, generateIfMissing: false, now: NOW });
    expect(ring.signer.kid).toBe(created.kid);
  });

  it('generates a fresh key once every stored key is retired', async () => {
    const { created: old } = await rotateKeys({ dataDir, now: NOW });
    const path = join(dataDir, 'keys', `${old.kid}.jwk.json`);
    const file = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...file, retiredAt: NOW + 1 }));
    const ring = await loadKeyRing({ dataDir, generateIfMissing: true, now: NOW + 1 });
    expect(ring.signer.kid).not.toBe(old.kid);
    expect(ring.verificationKey(old.kid)).toBeUndefined();
    expect(await readStoredKeys(dataDir)).toHaveLength(2);
  });
});

describe('generateKey', () => {
  it('makes a private JWK named by its thumbprint, writing nothing', async () => {
    const key = await generateKey(NOW);
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key.jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: key.kid, alg: 'EdDSA' });
    expect(key.createdAt).toBe(NOW);
    expect(await readdir(dataDir)).toEqual([]);
    // the JWK works as MAILPROOF_SIGNING_KEYS as is
    const ring = await loadKeyRing({
      dataDir,
      keysEnv: JSON.stringify(key.jwk),
      generateIfMissing: false,
      now: NOW,
    });
    expect(ring.signer.kid).toBe(key.kid);
  });
});

describe('loadKeyRing: configured keys', () => {
  it('reads a PEM key from the environment, named by its thumbprint', async () => {
    const key = pem();
    const ring = await loadKeyRing({
      dataDir,
      keysEnv: key.pem,
      generateIfMissing: true,
      now: NOW,
    });
    expect(signsWith(ring, key.publicKey)).toBe(true);
    expect(ring.signer.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('reads PEM whose newlines were escaped into the variable', async () => {
    const key = pem();
    const ring = await loadKeyRing({
      dataDir,
      keysEnv: key.pem.replaceAll('\n', '\\n'),
      generateIfMissing: false,
      now: NOW,
    });
    expect(signsWith(ring, key.publicKey)).toBe(true);
  });

  it('reads several PEM keys: the first signs, all verify', async () => {
    const a = pem();
    const b = pem();
    const ring = await loadKeyRing({
      dataDir,
      keysEnv: `${a.pem}\n${b.pem}`,
      generateIfMissing: false,
      now: NOW,
    });
    expect(signsWith(ring, a.publicKey)).toBe(true);
    expect(ring.jwks().keys).toHaveLength(2);
  });

  it('reads a JWK from a file, keeping its kid', async () => {
    const path = join(dataDir, 'key.json');
    await writeFile(path, JSON.stringify(privateJwk('my-key')));
    const ring = await loadKeyRing({ dataDir, keysFile: path, generateIfMissing: true, now: NOW });
    expect(ring.signer.kid).toBe('my-key');
    expect(await readdir(dataDir)).toEqual(['key.json']);
  });

  it('reads a JWKS of several keys, public-only ones just verifying', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const jwks = {
      keys: [
        privateJwk('current'),
        privateJwk('previous'),
        { ...publicKey.export({ format: 'jwk' }), kid: 'archived', use: 'sig', alg: 'EdDSA' },
      ],
    };
    const ring = await loadKeyRing({
      dataDir,
      keysEnv: JSON.stringify(jwks),
      generateIfMissing: false,
      now: NOW,
    });
    expect(ring.signer.kid).toBe('current');
    expect(ring.jwks().keys.map((key) => key.kid)).toEqual(['current', 'previous', 'archived']);
    expect(ring.list().find((key) => key.kid === 'archived')?.hasPrivateKey).toBe(false);
  });

  it.each([
    [
      'a PEM that is not a key',
      '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----',
    ],
    ['a truncated PEM', pem().pem.slice(0, 60)],
    [
      'an RSA key',
      generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString(),
    ],
    ['a public key PEM', pem().publicKey.export({ format: 'pem', type: 'spki' }).toString()],
    ['plain text', 'hunter2'],
    ['broken JSON', '{"kty":'],
    [
      'a JWK without d',
      JSON.stringify(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' })),
    ],
    ['a JWK whose x is not its d', JSON.stringify({ ...privateJwk(), x: privateJwk().x })],
    [
      'a P-256 JWK',
      JSON.stringify(
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
      ),
    ],
    ['a JWK for encryption', JSON.stringify({ ...privateJwk(), use: 'enc' })],
    ['a JWK for another alg', JSON.stringify({ ...privateJwk(), alg: 'ES256' })],
    ['an empty JWKS', '{"keys":[]}'],
    [
      'a JWKS of public keys only',
      JSON.stringify({
        keys: [{ ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'p' }],
      }),
    ],
    [
      'a JWKS with two keys of one kid',
      JSON.stringify({ keys: [privateJwk('k'), privateJwk('k')] }),
    ],
    ['whitespace', '  \n'],
  ])('refuses %s from the environment, naming the variable', async (_, keysEnv) => {
    const error = await configError(
      loadKeyRing({ dataDir, keysEnv, generateIfMissing: true, now: NOW }),
    );
    expect(error.variable).toMatch(/^MAILPROOF_SIGNING_KEYS/);
    expect(error.message).toMatch(/^MAILPROOF_SIGNING_KEYS/);
    expect(error.message).not.toMatch(/ERR_|DECODER|jose/i);
  });

  it('refuses a bad PEM file, naming the file', async () => {
    const path = join(dataDir, 'bad.pem');
    await writeFile(path, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    const error = await configError(
      loadKeyRing({ dataDir, keysFile: path, generateIfMissing: true, now: NOW }),
    );
    expect(error.variable).toContain('MAILPROOF_SIGNING_KEYS_FILE');
    expect(error.message).toContain(path);
  });

  it('refuses a missing file, naming it', async () => {
    const path = join(dataDir, 'missing.pem');
    const error = await configError(
      loadKeyRing({ dataDir, keysFile: path, generateIfMissing: true, now: NOW }),
    );
    expect(error.message).toContain(path);
    expect(error.message).toContain('ENOENT');
  });

  it('refuses both the variable and the file at once', async () => {
    const error = await configError(
      loadKeyRing({
        dataDir,
        keysEnv: pem().pem,
        keysFile: join(dataDir, 'x'),
        generateIfMissing: true,
        now: NOW,
      }),
    );
    expect(error.variable).toBe('MAILPROOF_SIGNING_KEYS');
  });
});
