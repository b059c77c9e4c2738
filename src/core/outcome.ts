import type { Purpose } from './ports.js';
import type { StrategyName } from './strategies/strategy.js';

/** What a verify call learned about a verification that exists and was proven. */
export interface VerifiedFields {
  id: string;
  email: string;
  subject: string | null;
  /** ms since the epoch. */
  verifiedAt: number;
}

/**
 * Every answer `verify` can give. Expected failures are outcomes, not exceptions: only a
 * broken dependency throws (`UnavailableError`).
 */
export type VerifyOutcome =
  | ({ status: 'verified' } & VerifiedFields)
  | ({ status: 'already_verified' } & VerifiedFields)
  | { status: 'invalid' }
  | { status: 'expired'; id?: string }
  | { status: 'revoked'; id: string };

/** The `status` values of `VerifyOutcome`. */
export type VerifyStatus = VerifyOutcome['status'];

/** What `issue` returns: the mail is committed to the outbox when this resolves. */
export interface IssueResult {
  id: string;
  /** The address the mail goes to, as given (trimmed). */
  email: string;
  /** ms since the epoch. */
  expiresAt: number;
  strategy: StrategyName;
}

/** A verification as `status` reports it; `expired` is derived from the clock. */
export interface VerificationStatus {
  id: string;
  email: string;
  subject: string | null;
  purpose: Purpose;
  status: 'pending' | 'verified' | 'expired' | 'revoked';
  /** ms since the epoch, like every instant below. */
  createdAt: number;
  expiresAt: number;
  verifiedAt: number | null;
  revokedAt: number | null;
}

/** What `revoke` did. */
export type RevokeResult = 'revoked' | 'not_pending' | 'not_found';
