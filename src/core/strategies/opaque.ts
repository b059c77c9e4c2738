import type { Random } from '../ports.js';
import { sha256Base64url } from '../sha256.js';
import type { MintedToken, TokenCheck, TokenStrategy } from './strategy.js';

/** 256 bits: the token's only protection is that it cannot be guessed. */
const TOKEN_BYTES = 32;
/** base64url of 32 bytes, unpadded. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The 'database lookup' design: a random token, of which the store keeps only the SHA-256.
 *
 * Why a plain SHA-256 of the whole token rather than a split selector + verifier: the token
 * has 256 bits of entropy, so a fast hash is as strong as a slow one (there is nothing to
 * brute-force), and looking the hash up by index means no secret is ever compared in
 * application code, so there is no timing side channel to guard: an attacker cannot steer
 * which hash prefix a guess produces. A selector/verifier split would only matter for a
 * low-entropy secret or a store that cannot index the full hash.
 */
export class OpaqueStrategy implements TokenStrategy {
  readonly name = 'opaque' as const;
  readonly #random: Random;

  constructor(options: { random: Random }) {
    this.#random = options.random;
  }

  /** Mints 32 random bytes as base64url; the lookup key is their SHA-256. */
  async mint(): Promise<MintedToken> {
    const token = this.#random.bytes(TOKEN_BYTES).toString('base64url');
    return { token, key: hashToken(token) };
  }

  /**
   * Refuses anything that is not shaped like a token (wrong length or alphabet) before any
   * hashing or database read; otherwise hands the store the key to look up.
   */
  async check(token: string): Promise<TokenCheck> {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
      return { ok: false, reason: 'invalid' };
    }
    return { ok: true, key: hashToken(token) };
  }
}

/** The store's key for an opaque token: SHA-256, base64url. */
export function hashToken(token: string): string {
  return sha256Base64url(token);
}
