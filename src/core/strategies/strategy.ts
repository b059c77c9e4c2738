import type { Purpose } from '../ports.js';

/** The name a strategy is configured by (`MAILPROOF_STRATEGY`). */
export type StrategyName = 'jwt' | 'opaque';

/** What a token carries, or lets the store find. */
export interface TokenClaims {
  verificationId: string;
  purpose: Purpose;
  /** ms since the epoch. */
  issuedAt: number;
  /** ms since the epoch. */
  expiresAt: number;
}

/** A freshly minted token: the secret to mail, and the key the store may keep. */
export interface MintedToken {
  /** URL-safe; goes in the link and nowhere else. */
  token: string;
  /** The store's lookup key; reveals nothing that would let anyone rebuild `token`. */
  key: string;
}

/**
 * Result of the cheap, database-free check of a presented token. `invalid` covers
 * malformed, forged and tampered input; `expired` is only said of a token whose
 * authenticity was proven (a JWT with a good signature).
 */
export type TokenCheck =
  | { ok: true; key: string; verificationId?: string }
  | { ok: false; reason: 'invalid' | 'expired'; verificationId?: string };

/**
 * One way of making and checking verification tokens. Both strategies keep the record in
 * the store; they differ in what can be refused before it is read.
 */
export interface TokenStrategy {
  readonly name: StrategyName;
  /** Mints a token for a verification. */
  mint(claims: TokenClaims): Promise<MintedToken>;
  /**
   * Checks a presented token without touching the database. Never throws for any input:
   * every malformed value is `{ok: false, reason: 'invalid'}`.
   */
  check(token: string, now: number): Promise<TokenCheck>;
}
