import { parseEmail } from './email.js';
import { parseIssueInput } from './issue-input.js';
import type { VerificationMailPayload } from './mail-payload.js';
import type {
  IssueResult,
  RevokeResult,
  VerificationStatus,
  VerifyOutcome,
  VerifyStatus,
} from './outcome.js';
import type {
  Clock,
  OutboxMailInput,
  Purpose,
  Random,
  Store,
  VerificationRecord,
} from './ports.js';
import type { SealedBox } from './sealed-box.js';
import type { StrategyName, TokenStrategy } from './strategies/strategy.js';
import { cryptoRandom, systemClock } from './system.js';

/** Longest id `status`/`revoke` will look up; anything longer cannot exist. */
const MAX_ID_LENGTH = 64;

/** Hooks for metrics and for waking the outbox worker; every one is optional. */
export interface LifecycleObserver {
  /** A verification was created (and `superseded` older ones revoked). */
  issued?(event: { strategy: StrategyName; superseded: number }): void;
  /** A verify call ended with `outcome`. */
  verified?(event: { strategy: StrategyName; outcome: VerifyStatus }): void;
  /** A mail was committed to the outbox: deliver it now rather than at the next poll. */
  mailCommitted?(): void;
}

/** What the lifecycle is built from. */
export interface VerificationsOptions {
  store: Store;
  strategy: TokenStrategy;
  /** Seals the token inside committed mails; the outbox worker opens them with the same key. */
  sealer: SealedBox;
  clock?: Clock;
  random?: Random;
  /** Token lifetime in seconds (default 86400). */
  tokenTtlSeconds?: number;
  observer?: LifecycleObserver;
}

/**
 * The verification lifecycle: issue, verify, resend, revoke, status. It knows nothing of
 * HTTP, SQL or SMTP; it speaks to the world through its ports.
 */
export class Verifications {
  readonly #store: Store;
  readonly #strategy: TokenStrategy;
  readonly #sealer: SealedBox;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ttlMs: number;
  readonly #observer: LifecycleObserver;

  constructor(options: VerificationsOptions) {
    this.#store = options.store;
    this.#strategy = options.strategy;
    this.#sealer = options.sealer;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? cryptoRandom;
    this.#ttlMs = (options.tokenTtlSeconds ?? 86_400) * 1000;
    this.#observer = options.observer ?? {};
  }

  /** The configured token strategy. */
  get strategy(): StrategyName {
    return this.#strategy.name;
  }

  /**
   * Validates the request, stores the verification with its first token, revokes the one
   * it supersedes and commits the mail, all in one transaction. Throws `InvalidInputError`
   * for bad input (nothing stored) and `UnavailableError` when the store fails.
   */
  async issue(input: unknown): Promise<IssueResult> {
    const { email, subject, purpose } = parseIssueInput(input);
    const now = this.#clock.now();
    const expiresAt = this.#expiry(now);
    const verification: VerificationRecord = {
      id: this.#newId('vf'),
      email: email.address,
      emailKey: email.key,
      subject,
      purpose,
      status: 'pending',
      createdAt: now,
      expiresAt,
      verifiedAt: null,
      revokedAt: null,
    };
    const minted = await this.#strategy.mint({
      verificationId: verification.id,
      purpose,
      issuedAt: now,
      expiresAt,
    });
    const { superseded } = await this.#store.createVerification({
      verification,
      token: { key: minted.key, verificationId: verification.id, createdAt: now, expiresAt },
      mail: this.#mail(verification.id, email.address, minted.token, purpose, expiresAt, false),
    });
    this.#observer.issued?.({ strategy: this.#strategy.name, superseded: superseded.length });
    this.#observer.mailCommitted?.();
    return { id: verification.id, email: email.address, expiresAt, strategy: this.#strategy.name };
  }

  /**
   * Checks a presented token and, on first use, marks its verification verified. A token
   * the strategy refuses (malformed, forged, expired JWT) never reaches the store. Never
   * throws for any input; throws `UnavailableError` only when the store fails.
   */
  async verify(token: unknown): Promise<VerifyOutcome> {
    const outcome = await this.#verify(token);
    this.#observer.verified?.({ strategy: this.#strategy.name, outcome: outcome.status });
    return outcome;
  }

  async #verify(token: unknown): Promise<VerifyOutcome> {
    if (typeof token !== 'string') return { status: 'invalid' };
    const now = this.#clock.now();
    const check = await this.#strategy.check(token, now);
    if (!check.ok) {
      return check.reason === 'expired'
        ? { status: 'expired', ...(check.verificationId ? { id: check.verificationId } : {}) }
        : { status: 'invalid' };
    }
    const result = await this.#store.consumeToken(check.key, now);
    if (result.kind === 'unknown') return { status: 'invalid' };
    const { verification } = result;
    // A signed token names its verification; a store row that disagrees means the key
    // collided or the row was tampered with, and neither may verify anything.
    if (check.verificationId !== undefined && check.verificationId !== verification.id) {
      return { status: 'invalid' };
    }
    switch (result.kind) {
      case 'expired':
        return { status: 'expired', id: verification.id };
      case 'revoked':
        return { status: 'revoked', id: verification.id };
      case 'verified':
      case 'already_verified':
        return {
          status: result.kind,
          id: verification.id,
          email: verification.email,
          subject: verification.subject,
          verifiedAt: verification.verifiedAt ?? now,
        };
    }
  }

  /**
   * Gives the newest pending verification for `email` a fresh token and mail; its earlier
   * tokens stay valid until they expire. For an address with nothing pending it does the
   * same work against a verification that does not exist, so the time taken does not tell
   * whether the address is known. Throws `InvalidInputError` for a malformed address.
   */
  async resend(email: unknown): Promise<void> {
    const address = parseEmail(email);
    const pending = await this.#store.findPendingByEmail(address.key);
    const now = this.#clock.now();
    const expiresAt = this.#expiry(now);
    const verificationId = pending?.id ?? this.#newId('vf');
    const purpose = pending?.purpose ?? 'signup';
    const minted = await this.#strategy.mint({ verificationId, purpose, issuedAt: now, expiresAt });
    const added = await this.#store.addToken({
      token: { key: minted.key, verificationId, createdAt: now, expiresAt },
      mail: this.#mail(
        verificationId,
        pending?.email ?? address.address,
        minted.token,
        purpose,
        expiresAt,
        true,
      ),
    });
    if (added) this.#observer.mailCommitted?.();
  }

  /** Revokes a pending verification: its tokens answer `revoked` from now on. */
  async revoke(id: string): Promise<RevokeResult> {
    if (!isPlausibleId(id)) return 'not_found';
    if (await this.#store.revoke(id, this.#clock.now())) return 'revoked';
    return (await this.#store.getVerification(id)) ? 'not_pending' : 'not_found';
  }

  /** The verification's state, or null when there is no such id. */
  async status(id: string): Promise<VerificationStatus | null> {
    if (!isPlausibleId(id)) return null;
    const record = await this.#store.getVerification(id);
    if (!record) return null;
    const expired = record.status === 'pending' && record.expiresAt <= this.#clock.now();
    return {
      id: record.id,
      email: record.email,
      subject: record.subject,
      purpose: record.purpose,
      status: expired ? 'expired' : record.status,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
      verifiedAt: record.verifiedAt,
      revokedAt: record.revokedAt,
    };
  }

  #mail(
    verificationId: string,
    recipient: string,
    token: string,
    purpose: Purpose,
    expiresAt: number,
    resent: boolean,
  ): OutboxMailInput {
    const payload: VerificationMailPayload = {
      kind: 'verification',
      token,
      purpose,
      expiresAt,
      resent,
    };
    return {
      id: this.#newId('ml'),
      verificationId,
      recipient,
      payload: this.#sealer.seal(payload),
      createdAt: this.#clock.now(),
    };
  }

  // Whole seconds, as a JWT's `exp` is: the record and the token then expire together.
  #expiry(now: number): number {
    return Math.floor((now + this.#ttlMs) / 1000) * 1000;
  }

  #newId(prefix: string): string {
    return `${prefix}_${this.#random.bytes(16).toString('base64url')}`;
  }
}

function isPlausibleId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH;
}
