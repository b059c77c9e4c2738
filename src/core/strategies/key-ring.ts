import { createPublicKey, KeyObject, type webcrypto } from 'node:crypto';
import { MailproofError } from '../errors.js';

/** Key material as jose or node:crypto produce it. */
export type KeyMaterial = KeyObject | webcrypto.CryptoKey;

/** One Ed25519 key of the ring, already imported. */
export interface KeyRingEntry {
  /** Names the key in token headers and the JWKS. */
  kid: string;
  /** Absent for a key kept only to verify tokens it signed before. */
  privateKey?: KeyMaterial;
  publicKey: KeyMaterial;
  /** ms since the epoch; the newest active key with a private part signs. */
  createdAt: number;
  /** A retired key neither signs nor verifies. */
  retired?: boolean;
}

/** A public key as published in the JWKS. */
export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

/** What `keys list` shows of a key: never key material. */
export interface KeyInfo {
  kid: string;
  createdAt: number;
  retired: boolean;
  /** Whether this key signs new tokens (exactly one key does). */
  signing: boolean;
  /** Whether the ring holds its private part. */
  hasPrivateKey: boolean;
}

/** Header `kid`s are attacker-chosen lookup keys; ours are short and printable. */
const KID_PATTERN = /^[\x21-\x7e]{1,128}$/;

/**
 * Several Ed25519 signing keys, so keys can be rotated without breaking the links already
 * mailed: the newest active key signs, and every key not retired verifies. Keys are checked
 * and converted once, at construction, so the hot path only does a map lookup.
 */
export class KeyRing {
  readonly #verifiers = new Map<string, KeyObject>();
  readonly #signer: { kid: string; privateKey: KeyObject };
  readonly #jwks: { readonly keys: readonly PublicJwk[] };
  readonly #info: readonly KeyInfo[];

  /**
   * Throws `MailproofError('invalid_config')` for a key that is not Ed25519, a private key
   * that does not match its public key, a duplicate or malformed `kid`, or a ring with no
   * active key able to sign.
   */
  constructor(entries: readonly KeyRingEntry[]) {
    const seen = new Set<string>();
    const keys: { entry: KeyRingEntry; publicKey: KeyObject; privateKey?: KeyObject }[] = [];
    for (const entry of entries) {
      if (typeof entry.kid !== 'string' || !KID_PATTERN.test(entry.kid)) {
        throw invalid(`kid ${JSON.stringify(entry.kid)} must be 1 to 128 printable characters`);
      }
      if (seen.has(entry.kid)) throw invalid(`kid ${entry.kid} is used by two keys`);
      seen.add(entry.kid);
      const publicKey = ed25519(entry.publicKey, 'public', entry.kid);
      const privateKey =
        entry.privateKey === undefined
          ? undefined
          : ed25519(entry.privateKey, 'private', entry.kid);
      if (privateKey && !createPublicKey(privateKey).equals(publicKey)) {
        throw invalid(`key ${entry.kid}: the private key does not match the public key`);
      }
      keys.push({ entry, publicKey, ...(privateKey ? { privateKey } : {}) });
    }

    const active = keys.filter(({ entry }) => entry.retired !== true);
    // Strictly newer wins, so among keys of equal age the first listed signs.
    let signer: (typeof keys)[number] | undefined;
    for (const key of active) {
      if (key.privateKey && (!signer || key.entry.createdAt > signer.entry.createdAt)) {
        signer = key;
      }
    }
    if (!signer?.privateKey) throw invalid('no active key with a private part to sign with');
    this.#signer = { kid: signer.entry.kid, privateKey: signer.privateKey };

    for (const { entry, publicKey } of active) this.#verifiers.set(entry.kid, publicKey);
    this.#jwks = deepFreeze({
      keys: active.map(({ entry, publicKey }) => toJwk(entry.kid, publicKey)),
    });
    this.#info = deepFreeze(
      keys.map(({ entry, privateKey }) => ({
        kid: entry.kid,
        createdAt: entry.createdAt,
        retired: entry.retired === true,
        signing: entry.kid === this.#signer.kid,
        hasPrivateKey: privateKey !== undefined,
      })),
    );
  }

  /** The key that signs new tokens. */
  get signer(): { readonly kid: string; readonly privateKey: KeyObject } {
    return this.#signer;
  }

  /** The public key that verifies tokens of `kid`, or undefined if unknown or retired. */
  verificationKey(kid: string): KeyObject | undefined {
    return this.#verifiers.get(kid);
  }

  /** The JWKS of every key that verifies: public parts only (frozen, built once). */
  jwks(): { readonly keys: readonly PublicJwk[] } {
    return this.#jwks;
  }

  /** Every key, retired or not, in the order given. */
  list(): readonly KeyInfo[] {
    return this.#info;
  }
}

function invalid(message: string): MailproofError {
  return new MailproofError('invalid_config', `signing keys: ${message}`);
}

/** Converts to a KeyObject (what node:crypto verifies with) and insists on Ed25519. */
function ed25519(key: KeyMaterial, type: 'public' | 'private', kid: string): KeyObject {
  let object: KeyObject;
  try {
    object = key instanceof KeyObject ? key : KeyObject.from(key);
  } catch (cause) {
    throw new MailproofError('invalid_config', `signing keys: key ${kid} is not a key`, { cause });
  }
  if (object.type !== type || object.asymmetricKeyType !== 'ed25519') {
    throw invalid(`key ${kid}: expected an Ed25519 ${type} key`);
  }
  return object;
}

/** Builds the JWK member by member so that no private field can slip through. */
function toJwk(kid: string, publicKey: KeyObject): PublicJwk {
  const { x } = publicKey.export({ format: 'jwk' });
  if (typeof x !== 'string') throw invalid(`key ${kid}: cannot export its public part`);
  return { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}
