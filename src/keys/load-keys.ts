import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, MailproofError } from '../core/errors.js';
import { KeyRing, type KeyRingEntry } from '../core/strategies/key-ring.js';
import { type Ed25519Jwk, importJwk, parseKeyText, thumbprint } from './key-text.js';

/** The environment variable holding key text (PEM, JWK or JWKS). */
export const SIGNING_KEYS_ENV = 'MAILPROOF_SIGNING_KEYS';
/** The environment variable naming a file of key text. */
export const SIGNING_KEYS_FILE_ENV = 'MAILPROOF_SIGNING_KEYS_FILE';

/** Tells our key files from anything else that may sit in the folder. */
const FORMAT = 'mailproof-signing-key/1';
const SUFFIX = '.jwk.json';
/** A kid that is safe as a file name (thumbprints are). */
const FILE_KID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * A key as kept in `<dataDir>/keys/<kid>.jwk.json`: the private JWK (itself carrying `kid`,
 * so it can be pasted into `MAILPROOF_SIGNING_KEYS` as is) and when it was made and retired.
 */
export interface StoredKey {
  kid: string;
  /** ms since the epoch; the newest active key signs. */
  createdAt: number;
  /** ms since the epoch; from then on the key neither signs nor verifies. */
  retiredAt?: number;
  jwk: Ed25519Jwk & { d: string; kid: string };
}

/** Options of {@link loadKeyRing}. */
export interface LoadKeyRingOptions {
  dataDir: string;
  /** The value of `MAILPROOF_SIGNING_KEYS`. */
  keysEnv?: string | null;
  /** The value of `MAILPROOF_SIGNING_KEYS_FILE`: a path. */
  keysFile?: string | null;
  /** With no key configured or stored, make one in `<dataDir>/keys/` (development). */
  generateIfMissing: boolean;
  now: number;
}

/**
 * Builds the key ring from, in order of precedence: `MAILPROOF_SIGNING_KEYS`,
 * `MAILPROOF_SIGNING_KEYS_FILE`, or the key files in `<dataDir>/keys/`, generating one there
 * when none is active and `generateIfMissing` allows. Throws `ConfigError` naming the
 * variable or file for any bad or missing key.
 *
 * Generated keys suit one instance; several instances must share configured keys (or one
 * data dir whose keys exist before they start), or each would refuse the others' tokens.
 */
export async function loadKeyRing(options: LoadKeyRingOptions): Promise<KeyRing> {
  const { keysEnv, keysFile, now } = options;
  if (keysEnv && keysFile) {
    throw new ConfigError(SIGNING_KEYS_ENV, `set it or ${SIGNING_KEYS_FILE_ENV}, not both`);
  }
  if (keysEnv) return ring(await parseKeyText(keysEnv, SIGNING_KEYS_ENV, now), SIGNING_KEYS_ENV);
  if (keysFile) {
    const source = `${SIGNING_KEYS_FILE_ENV} (${keysFile})`;
    let text: string;
    try {
      text = await readFile(keysFile, 'utf8');
    } catch (cause) {
      throw new ConfigError(source, `cannot read the file: ${errorCode(cause)}`, { cause });
    }
    return ring(await parseKeyText(text, source, now), source);
  }

  const stored = await readStoredKeys(options.dataDir);
  if (!stored.some((key) => isActive(key, now))) {
    if (!options.generateIfMissing) {
      throw new ConfigError(
        SIGNING_KEYS_ENV,
        `no signing key: set it or ${SIGNING_KEYS_FILE_ENV}, or run "mailproof keys rotate"`,
      );
    }
    const key = await generateKey(now);
    await writeStoredKey(options.dataDir, key);
    stored.push(key);
  }
  const entries = await Promise.all(
    stored.map(async (key) => ({
      ...(await importJwk(key.jwk, keyPath(options.dataDir, key.kid), now, true)),
      createdAt: key.createdAt,
      retired: !isActive(key, now),
    })),
  );
  return ring(entries, join(options.dataDir, 'keys'));
}

/** Makes a new Ed25519 key named by its thumbprint; nothing is written. */
export async function generateKey(now: number): Promise<StoredKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const { x, d } = privateKey.export({ format: 'jwk' });
  if (typeof x !== 'string' || typeof d !== 'string') {
    throw new MailproofError('internal', 'cannot export a generated key');
  }
  const kid = await thumbprint(publicKey);
  return {
    kid,
    createdAt: now,
    jwk: { kty: 'OKP', crv: 'Ed25519', x, d, kid, alg: 'EdDSA', use: 'sig' },
  };
}

/**
 * Adds a new key to `<dataDir>/keys/`, which signs from the next start on; the older keys
 * keep verifying the tokens already mailed. With `retireAfterMs` (say, the token lifetime),
 * the older active keys are retired that long from `now`, once no token they signed can
 * still be valid. The new key is written first, so a crash never leaves no key to sign.
 */
export async function rotateKeys(options: {
  dataDir: string;
  now: number;
  retireAfterMs?: number;
}): Promise<{ created: StoredKey; retiring: StoredKey[] }> {
  const { dataDir, now, retireAfterMs } = options;
  const stored = await readStoredKeys(dataDir);
  // Newer than every existing key even if the clock went back, or it would not sign.
  const newest = Math.max(now, ...stored.map((key) => key.createdAt + 1));
  const created = await generateKey(newest);
  await writeStoredKey(dataDir, created);
  const retiring: StoredKey[] = [];
  if (retireAfterMs !== undefined) {
    const retiredAt = now + retireAfterMs;
    for (const key of stored) {
      if (isActive(key, now) && (key.retiredAt === undefined || key.retiredAt > retiredAt)) {
        const updated = { ...key, retiredAt };
        await writeStoredKey(dataDir, updated);
        retiring.push(updated);
      }
    }
  }
  return { created, retiring };
}

/** Every key file in `<dataDir>/keys/`, oldest first; none when the folder is missing. */
export async function readStoredKeys(dataDir: string): Promise<StoredKey[]> {
  const dir = join(dataDir, 'keys');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    if (errorCode(cause) === 'ENOENT') return [];
    throw new ConfigError(dir, `cannot read the folder: ${errorCode(cause)}`, { cause });
  }
  // Dot files are unfinished writes a crash left behind.
  const files = names.filter((name) => name.endsWith(SUFFIX) && !name.startsWith('.'));
  const keys = await Promise.all(files.map((name) => readStoredKey(dir, name)));
  return keys.sort((a, b) => a.createdAt - b.createdAt);
}

async function readStoredKey(dir: string, name: string): Promise<StoredKey> {
  const path = join(dir, name);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError(path, 'is not a readable JSON key file', { cause });
  }
  if (
    !isRecord(json) ||
    json.format !== FORMAT ||
    typeof json.kid !== 'string' ||
    !FILE_KID.test(json.kid) ||
    name !== `${json.kid}${SUFFIX}` ||
    !isInstant(json.createdAt) ||
    !(json.retiredAt === undefined || isInstant(json.retiredAt)) ||
    !isRecord(json.jwk) ||
    json.jwk.kid !== json.kid ||
    typeof json.jwk.d !== 'string'
  ) {
    throw new ConfigError(path, `is not a ${FORMAT} file`);
  }
  return json as unknown as StoredKey;
}

/**
 * Writes a key file readable by the owner only, through a temporary file renamed into place
 * and synced, so a crash leaves either the whole key or none (and the stray temporary file
 * is ignored on load).
 */
async function writeStoredKey(dataDir: string, key: StoredKey): Promise<void> {
  const dir = join(dataDir, 'keys');
  await mkdir(dataDir, { recursive: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const path = keyPath(dataDir, key.kid);
  const temporary = join(dir, `.${key.kid}.${randomBytes(6).toString('hex')}.tmp`);
  const content = { format: FORMAT, ...key };
  const file = await open(temporary, 'wx', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(content, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true });
    throw cause;
  }
  // Persist the rename itself; Windows cannot open a folder, and needs no such step.
  if (process.platform !== 'win32') {
    const folder = await open(dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }
}

function ring(entries: KeyRingEntry[], source: string): KeyRing {
  try {
    return new KeyRing(entries);
  } catch (cause) {
    if (cause instanceof MailproofError) throw new ConfigError(source, cause.message, { cause });
    throw cause;
  }
}

function keyPath(dataDir: string, kid: string): string {
  return join(dataDir, 'keys', `${kid}${SUFFIX}`);
}

function isActive(key: StoredKey, now: number): boolean {
  return key.retiredAt === undefined || key.retiredAt > now;
}

function isInstant(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorCode(error: unknown): string {
  return isRecord(error) && typeof error.code === 'string' ? error.code : 'unknown error';
}
