import { MailproofError, UnavailableError } from '../core/errors.js';
import type { Clock, Suspension, SuspensionState } from '../core/ports.js';

/** Not suspended. */
export const OPEN: Suspension = {
  suspended: false,
  until: null,
  reason: null,
  auto: false,
  since: null,
};

/** What a request should do, as of the last read of the shared switch. */
export type SwitchReading =
  | { kind: 'open' }
  | { kind: 'suspended'; suspension: Suspension; retryAfterSeconds: number }
  /** The shared state could not be read: fail closed. */
  | { kind: 'unknown'; retryAfterSeconds: number };

/** Retry-After when a suspension has no end set: long enough not to hammer, short enough to notice a resume. */
const OPEN_ENDED_RETRY_SECONDS = 300;
const UNKNOWN_RETRY_SECONDS = 10;

/** Options of `SuspendSwitch`. */
export interface SuspendSwitchOptions {
  state: SuspensionState;
  clock: Clock;
  /** How often the shared state is re-read; a change elsewhere is honoured within this. */
  refreshMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * The attack-mode switch. Requests read a cached value (no I/O on the hot path); a timer
 * re-reads the shared state every `refreshMs`, so a suspend or resume on any instance is
 * honoured everywhere within that interval. A change made here applies at once.
 */
export class SuspendSwitch {
  readonly #state: SuspensionState;
  readonly #clock: Clock;
  readonly #refreshMs: number;
  readonly #onError: (error: unknown) => void;
  #current: Suspension | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SuspendSwitchOptions) {
    this.#state = options.state;
    this.#clock = options.clock;
    this.#refreshMs = options.refreshMs ?? 1000;
    this.#onError = options.onError ?? (() => {});
  }

  /** Reads the state once, then keeps it fresh in the background. */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#refreshMs);
    this.#timer.unref();
  }

  /** Stops the background refresh. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** Re-reads the shared state now; a failed read makes the switch `unknown` (closed). */
  async refresh(): Promise<void> {
    try {
      this.#current = await this.#state.read();
    } catch (error) {
      this.#current = null;
      this.#onError(error);
    }
  }

  /** The switch as of the last read, with an expired suspension counted as lifted. */
  reading(): SwitchReading {
    const current = this.#current;
    if (!current) return { kind: 'unknown', retryAfterSeconds: UNKNOWN_RETRY_SECONDS };
    const now = this.#clock.now();
    if (!current.suspended || (current.until !== null && current.until <= now)) {
      return { kind: 'open' };
    }
    const retryAfterSeconds =
      current.until === null
        ? OPEN_ENDED_RETRY_SECONDS
        : Math.max(1, Math.ceil((current.until - now) / 1000));
    return { kind: 'suspended', suspension: current, retryAfterSeconds };
  }

  /** The state as every instance sees it, read fresh. */
  async read(): Promise<Suspension> {
    await this.refresh();
    const reading = this.reading();
    if (reading.kind === 'unknown') return this.#shared(() => this.#state.read());
    return reading.kind === 'open' ? OPEN : reading.suspension;
  }

  /** Suspends issuing and verifying everywhere, for `seconds` or until resumed. */
  async suspend(options: {
    reason?: string | null;
    seconds?: number | null;
    auto?: boolean;
  }): Promise<Suspension> {
    const now = this.#clock.now();
    const suspension: Suspension = {
      suspended: true,
      until: options.seconds ? now + options.seconds * 1000 : null,
      reason: options.reason ?? null,
      auto: options.auto ?? false,
      since: now,
    };
    await this.#shared(() => this.#state.write(suspension));
    this.#current = suspension;
    return suspension;
  }

  /** Lifts the suspension everywhere. */
  async resume(): Promise<void> {
    await this.#shared(() => this.#state.write(OPEN));
    this.#current = OPEN;
  }

  /** Runs an operation on the shared state; its failure is a dependency being down. */
  async #shared<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof MailproofError) throw error;
      throw new UnavailableError('the shared suspend switch cannot be reached', { cause: error });
    }
  }
}
