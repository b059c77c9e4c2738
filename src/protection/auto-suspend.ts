import type { AttackDetector, AttackTrigger } from './attack-detector.js';
import type { SuspendSwitch } from './suspend-switch.js';

/** Options of `AutoSuspend`. */
export interface AutoSuspendOptions {
  detector: AttackDetector;
  suspendSwitch: SuspendSwitch;
  /** How often the detector's window is read (default 1000 ms). */
  intervalMs?: number;
  /** Called after a suspension was set (logs, metrics). */
  onSuspend?: (trigger: AttackTrigger) => void;
  onError?: (error: unknown) => void;
}

/**
 * The automatic attack response: every interval, asks the detector whether the window
 * shows a flood and, if so, suspends every instance for the detector's period (marked
 * `auto`). An operator's own suspension is never overwritten; an automatic one lifts by
 * itself when its period ends, and is set again only if the window is still flooded.
 */
export class AutoSuspend {
  readonly #detector: AttackDetector;
  readonly #switch: SuspendSwitch;
  readonly #intervalMs: number;
  readonly #onSuspend: AutoSuspendOptions['onSuspend'];
  readonly #onError: AutoSuspendOptions['onError'];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<AttackTrigger | null> | null = null;

  constructor(options: AutoSuspendOptions) {
    this.#detector = options.detector;
    this.#switch = options.suspendSwitch;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#onSuspend = options.onSuspend;
    this.#onError = options.onError;
  }

  /** Starts the periodic check. */
  start(): void {
    this.#timer = setInterval(() => void this.check(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops it, waiting for a check under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One check: evaluates the window and suspends on a trigger. Never rejects. */
  check(): Promise<AttackTrigger | null> {
    this.#running ??= this.#check().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #check(): Promise<AttackTrigger | null> {
    try {
      const trigger = await this.#detector.evaluate();
      if (!trigger) return null;
      // An operator's suspension (no end, or not automatic) is theirs to lift. Read afresh, not
      // the cached reading: that is up to a refresh old, and an operator may have suspended on
      // another instance meanwhile. A state that cannot be read throws here: nothing is written.
      const current = await this.#switch.read();
      if (current.suspended && !current.auto) return null;
      await this.#switch.suspend({
        reason: trigger.reason,
        seconds: this.#detector.suspendSeconds,
        auto: true,
      });
      this.#onSuspend?.(trigger);
      return trigger;
    } catch (error) {
      this.#onError?.(error);
      return null;
    }
  }
}
