import { ConfigError, UnavailableError } from '../core/errors.js';
import type {
  ConsumeResult,
  OutboxDepth,
  OutboxMail,
  OutboxMailInput,
  Store,
  Suspension,
  TokenRecord,
  VerificationRecord,
} from '../core/ports.js';

/** How the deferred store opens the real one: ms between attempts, doubling up to a cap. */
export interface DeferredStoreOptions {
  open: () => Promise<Store>;
  firstRetryMs?: number;
  maxRetryMs?: number;
  onRetry?: (error: unknown, nextInMs: number) => void;
  onOpen?: () => void;
}

/**
 * A store opened in the background, for a process started while its database is down:
 * until the database answers (and is migrated), every call fails fast with
 * `UnavailableError`, so people see the 'unavailable' page instead of a crash loop; then
 * every call goes to the real store. Opening is retried with a capped backoff.
 */
export class DeferredStore implements Store {
  readonly #open: () => Promise<Store>;
  readonly #firstRetryMs: number;
  readonly #maxRetryMs: number;
  readonly #onRetry: DeferredStoreOptions['onRetry'];
  readonly #onOpen: DeferredStoreOptions['onOpen'];
  #store: Store | null = null;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: DeferredStoreOptions) {
    this.#open = options.open;
    this.#firstRetryMs = options.firstRetryMs ?? 500;
    this.#maxRetryMs = options.maxRetryMs ?? 10_000;
    this.#onRetry = options.onRetry;
    this.#onOpen = options.onOpen;
  }

  /**
   * Makes the first attempt; later ones run in the background until one succeeds. Rejects
   * only for a `ConfigError` (a bad URL), never because the database is down.
   */
  async start(): Promise<void> {
    await this.#attempt(this.#firstRetryMs);
  }

  /** Whether the real store is open. */
  get isOpen(): boolean {
    return this.#store !== null;
  }

  #use(): Store {
    if (!this.#store) throw new UnavailableError('the database has not answered since start');
    return this.#store;
  }

  async #attempt(delayMs: number): Promise<void> {
    if (this.#closed) return;
    try {
      const store = await this.#open();
      if (this.#closed) return void (await store.close());
      this.#store = store;
      this.#onOpen?.();
    } catch (error) {
      // A wrong setting will not fix itself by waiting: the start must stop and say so.
      if (error instanceof ConfigError) throw error;
      this.#onRetry?.(error, delayMs);
      const next = Math.min(delayMs * 2, this.#maxRetryMs);
      this.#timer = setTimeout(() => void this.#attempt(next), delayMs);
      this.#timer.unref();
    }
  }

  async createVerification(input: {
    verification: VerificationRecord;
    token: TokenRecord;
    mail: OutboxMailInput;
  }): Promise<{ superseded: string[] }> {
    return this.#use().createVerification(input);
  }

  async findPendingByEmail(emailKey: string): Promise<VerificationRecord | null> {
    return this.#use().findPendingByEmail(emailKey);
  }

  async addToken(input: { token: TokenRecord; mail: OutboxMailInput }): Promise<boolean> {
    return this.#use().addToken(input);
  }

  async consumeToken(key: string, now: number): Promise<ConsumeResult> {
    return this.#use().consumeToken(key, now);
  }

  async revoke(id: string, now: number): Promise<boolean> {
    return this.#use().revoke(id, now);
  }

  async getVerification(id: string): Promise<VerificationRecord | null> {
    return this.#use().getVerification(id);
  }

  async claimMail(limit: number, now: number, leaseMs: number): Promise<OutboxMail[]> {
    return this.#use().claimMail(limit, now, leaseMs);
  }

  async markMailSent(id: string, now: number): Promise<void> {
    return this.#use().markMailSent(id, now);
  }

  async markMailFailed(
    id: string,
    error: string,
    nextAttemptAt: number,
    dead: boolean,
  ): Promise<void> {
    return this.#use().markMailFailed(id, error, nextAttemptAt, dead);
  }

  async getMail(id: string): Promise<OutboxMail | null> {
    return this.#use().getMail(id);
  }

  async listMailsFor(verificationId: string): Promise<OutboxMail[]> {
    return this.#use().listMailsFor(verificationId);
  }

  async outboxDepth(): Promise<OutboxDepth> {
    return this.#use().outboxDepth();
  }

  async readSuspension(): Promise<Suspension> {
    return this.#use().readSuspension();
  }

  async writeSuspension(suspension: Suspension): Promise<void> {
    return this.#use().writeSuspension(suspension);
  }

  async ping(): Promise<void> {
    return this.#use().ping();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#store?.close();
  }
}
