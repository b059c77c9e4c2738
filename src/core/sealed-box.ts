import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MailproofError } from './errors.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Authenticated encryption (AES-256-GCM) for values that must survive in the database but
 * never rest there in clear: the token inside a committed, not yet delivered mail. The key
 * lives outside the database (data dir or environment), so a copy of the database alone
 * reveals no usable link.
 */
export class SealedBox {
  readonly #key: Buffer;

  /** `key`: 32 bytes. */
  constructor(key: Buffer) {
    if (key.length !== 32) {
      throw new MailproofError('invalid_config', 'the outbox key must be 32 bytes');
    }
    this.#key = Buffer.from(key);
  }

  /** Encrypts a JSON-serialisable value into `v1.<iv>.<ciphertext+tag>` (base64url). */
  seal(value: unknown): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([body, cipher.getAuthTag()]);
    return `${VERSION}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
  }

  /** Decrypts what `seal` made with the same key; throws `MailproofError` otherwise. */
  open<T>(sealed: string): T {
    const [version, ivText, bodyText] = sealed.split('.');
    if (version !== VERSION || !ivText || !bodyText) {
      throw new MailproofError('internal', 'sealed value has an unknown format');
    }
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) {
      throw new MailproofError('internal', 'sealed value is truncated');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv);
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return JSON.parse(plain.toString('utf8')) as T;
    } catch (cause) {
      throw new MailproofError('internal', 'sealed value does not open with this key', { cause });
    }
  }
}
