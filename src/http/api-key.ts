import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks `Authorization: Bearer <key>` against the configured API key in constant time.
 * Both sides are hashed first so that the comparison runs over equal lengths and the
 * key's length does not leak either.
 */
export class ApiKeyCheck {
  readonly #digest: Buffer;

  constructor(apiKey: string) {
    this.#digest = sha256(apiKey);
  }

  /** True when the header carries the key. */
  accepts(authorization: string | undefined): boolean {
    if (typeof authorization !== 'string') return false;
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (!match) return false;
    return timingSafeEqual(sha256(match[1]!), this.#digest);
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
