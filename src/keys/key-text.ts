import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { ConfigError } from '../core/errors.js';
import type { KeyRingEntry } from '../core/strategies/key-ring.js';

/** An Ed25519 key as a JWK: public with `x`, private with `d` as well. */
export interface Ed25519Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d?: string;
  kid?: string;
  alg?: string;
  use?: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * Reads signing keys given as text: one or more PEM PKCS #8 private keys, a JSON JWK with
 * `d`, or a JWKS `{keys: [...]}` (where public-only keys just verify). PEM keys and JWKs
 * without `kid` are named by their RFC 7638 thumbprint, so every instance given the same
 * key agrees on its name. Every key gets `createdAt: now`: the first key able to sign does.
 * Throws `ConfigError` naming `source` for anything else; never a crypto library's error.
 */
export async function parseKeyText(
  text: string,
  source: string,
  now: number,
): Promise<KeyRingEntry[]> {
  const trimmed = text.trim();
  if (trimmed === '') throw new ConfigError(source, 'no key given');
  if (trimmed.startsWith('-----BEGIN')) return parsePem(trimmed, source, now);
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new ConfigError(source, 'is not valid JSON');
    }
    if (isRecord(json) && 'keys' in json) {
      if (!Array.isArray(json.keys) || json.keys.length === 0) {
        throw new ConfigError(source, 'a JWKS needs a non-empty "keys" array');
      }
      return Promise.all(
        json.keys.map((jwk, index) => importJwk(jwk, `${source} key ${index + 1}`, now, false)),
      );
    }
    return [await importJwk(json, source, now, true)];
  }
  throw new ConfigError(source, 'expected PEM (PKCS #8 private key) or JSON (JWK or JWKS)');
}

/**
 * Imports one Ed25519 JWK, checking that `x` belongs to `d` (node:crypto would silently
 * derive the public key from `d` and ignore a mismatched `x`).
 */
export async function importJwk(
  jwk: unknown,
  source: string,
  now: number,
  requirePrivate: boolean,
): Promise<KeyRingEntry> {
  if (!isEd25519Jwk(jwk)) {
    throw new ConfigError(source, 'expected an Ed25519 JWK (kty "OKP", crv "Ed25519", x)');
  }
  if (jwk.alg !== undefined && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') {
    throw new ConfigError(source, `JWK alg ${JSON.stringify(jwk.alg)} is not EdDSA`);
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new ConfigError(source, `JWK use ${JSON.stringify(jwk.use)} is not "sig"`);
  }
  if (requirePrivate && jwk.d === undefined) {
    throw new ConfigError(source, 'the JWK has no private part ("d")');
  }
  const { kty, crv, x, d } = jwk;
  let publicKey: KeyObject;
  let privateKey: KeyObject | undefined;
  try {
    if (d === undefined) {
      publicKey = createPublicKey({ key: { kty, crv, x }, format: 'jwk' });
    } else {
      privateKey = createPrivateKey({ key: { kty, crv, x, d }, format: 'jwk' });
      publicKey = createPublicKey(privateKey);
    }
  } catch (cause) {
    throw new ConfigError(source, 'the JWK is not a valid Ed25519 key', { cause });
  }
  if (publicKey.export({ format: 'jwk' }).x !== x) {
    throw new ConfigError(source, 'the JWK "x" does not match its "d"');
  }
  return entry(jwk.kid ?? (await thumbprint(publicKey)), publicKey, privateKey, now);
}

async function parsePem(text: string, source: string, now: number): Promise<KeyRingEntry[]> {
  // Environment variables often carry PEM with escaped newlines.
  const pem = text.includes('\\n') ? text.replaceAll('\\n', '\n') : text;
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length === 0 || pem.replace(PEM_BLOCK, '').trim() !== '') {
    throw new ConfigError(source, 'is not a sequence of complete PEM blocks');
  }
  return Promise.all(
    blocks.map(async ([block, label], index) => {
      const where = blocks.length === 1 ? source : `${source} key ${index + 1}`;
      if (label !== 'PRIVATE KEY') {
        throw new ConfigError(
          where,
          `expected an unencrypted PKCS #8 "PRIVATE KEY", not "${label}"`,
        );
      }
      let privateKey: KeyObject;
      try {
        privateKey = createPrivateKey({ key: block, format: 'pem' });
      } catch (cause) {
        throw new ConfigError(where, 'is not a valid PKCS #8 private key', { cause });
      }
      if (privateKey.asymmetricKeyType !== 'ed25519') {
        throw new ConfigError(
          where,
          `expected an Ed25519 key, not ${privateKey.asymmetricKeyType}`,
        );
      }
      const publicKey = createPublicKey(privateKey);
      return entry(await thumbprint(publicKey), publicKey, privateKey, now);
    }),
  );
}

function entry(
  kid: string,
  publicKey: KeyObject,
  privateKey: KeyObject | undefined,
  createdAt: number,
): KeyRingEntry {
  return privateKey ? { kid, publicKey, privateKey, createdAt } : { kid, publicKey, createdAt };
}

/** The RFC 7638 thumbprint: a name derived from the public key alone. */
export function thumbprint(publicKey: KeyObject): Promise<string> {
  const { kty, crv, x } = publicKey.export({ format: 'jwk' });
  return calculateJwkThumbprint({ kty, crv, x });
}

function isEd25519Jwk(value: unknown): value is Ed25519Jwk {
  return (
    isRecord(value) &&
    value.kty === 'OKP' &&
    value.crv === 'Ed25519' &&
    typeof value.x === 'string' &&
    (value.d === undefined || typeof value.d === 'string') &&
    (value.kid === undefined || typeof value.kid === 'string')
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
