import type { Clock } from '../core/ports.js';
import { hashKey } from './hash-key.js';
import { bucketOf, type WindowCounter } from './window-counter.js';

/**
 * What the detector watches; the names are stable metric labels.
 * - `verify_failed`: failed verifications (invalid, expired, revoked tokens): guessing.
 * - `issued`: issue and resend requests: mail volume.
 * - `distinct_recipients`: how many different addresses were mailed: spraying.
 */
export type AttackSignal = 'verify_failed' | 'issued' | 'distinct_recipients';

/** Per signal, the count over one window at which the detector triggers. */
export type AttackThresholds = Readonly<Record<AttackSignal, number>>;

/**
 * Defaults, per 60 s window. Normal traffic for a service like this is a few sign-ups and
 * a few mistyped or stale links a minute; a flood is thousands. The thresholds sit two
 * orders of magnitude above the first and well below the second. Failed verifications get
 * the highest one: a link clicked twice or late is a normal failure.
 */
export const ATTACK_DETECTOR_DEFAULTS: {
  readonly thresholds: AttackThresholds;
  readonly suspendSeconds: number;
} = {
  thresholds: { verify_failed: 600, issued: 300, distinct_recipients: 200 },
  suspendSeconds: 300,
};

/** Why the detector asks for a suspension. */
export interface AttackTrigger {
  signal: AttackSignal;
  /** The count over the window when it triggered. */
  count: number;
  threshold: number;
  windowSeconds: number;
  /** One line for the log and the suspension's `reason`. */
  reason: string;
}

/** How `AttackDetector` is built. */
export interface AttackDetectorOptions {
  /** Where the counts live: memory (this instance) or Redis (the cluster). */
  counter: WindowCounter;
  /** The only source of time. */
  clock: Clock;
  /** Thresholds to change; the others keep the defaults. */
  thresholds?: Partial<AttackThresholds>;
  /** How long an automatic suspension lasts. Default 300. */
  suspendSeconds?: number;
  /** Called once per trigger (log it, count it). */
  onTrigger?: (trigger: AttackTrigger) => void;
  /** Called when the counter's store fails; that evaluation then triggers nothing. */
  onError?: (error: unknown) => void;
}

const SIGNALS = ['verify_failed', 'issued', 'distinct_recipients'] as const;

const LABELS: Readonly<Record<AttackSignal, string>> = {
  verify_failed: 'failed verifications',
  issued: 'mails requested',
  distinct_recipients: 'distinct recipients',
};

/** What was recorded in one bucket since the last flush. */
interface Pending {
  verifyFailed: number;
  issued: number;
  recipients: Set<string>;
}

/**
 * Sliding-window attack detection across the cluster. Requests record signals in memory
 * (no I/O on the hot path); `evaluate()`, which the caller runs every second, adds them to
 * the shared counter in a few commands, reads the window's totals and returns a trigger
 * when one reaches its threshold. The caller then suspends for `suspendSeconds` with
 * `auto: true`; the suspension lifts by itself when its `until` passes.
 *
 * After a trigger, the detector stays quiet for one window, so the counts that caused it
 * have aged out before it can trigger again. While the counter's store is down, the
 * detector sees nothing: the per-instance rate limits still hold.
 */
export class AttackDetector {
  /** The thresholds in force. */
  readonly thresholds: AttackThresholds;
  /** How long the suspension the caller sets on a trigger should last. */
  readonly suspendSeconds: number;
  readonly #counter: WindowCounter;
  readonly #clock: Clock;
  readonly #onTrigger: (trigger: AttackTrigger) => void;
  readonly #onError: (error: unknown) => void;
  #pending = new Map<number, Pending>();
  #counts: Readonly<Record<AttackSignal, number>> = {
    verify_failed: 0,
    issued: 0,
    distinct_recipients: 0,
  };
  #quietUntil = Number.NEGATIVE_INFINITY;
  #running: Promise<AttackTrigger | null> | null = null;

  constructor(options: AttackDetectorOptions) {
    this.thresholds = { ...ATTACK_DETECTOR_DEFAULTS.thresholds, ...options.thresholds };
    this.suspendSeconds = options.suspendSeconds ?? ATTACK_DETECTOR_DEFAULTS.suspendSeconds;
    for (const [name, value] of Object.entries({
      ...this.thresholds,
      suspendSeconds: this.suspendSeconds,
    })) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new Error(`attack detector ${name} must be a whole number of at least 1`);
      }
    }
    this.#counter = options.counter;
    this.#clock = options.clock;
    this.#onTrigger = options.onTrigger ?? (() => {});
    this.#onError = options.onError ?? (() => {});
  }

  /** Records a failed verification (invalid, expired or revoked token). */
  recordVerifyFailed(): void {
    this.#pendingNow().verifyFailed += 1;
  }

  /** Records an issue or resend request for the canonical email key `recipientKey`. */
  recordIssued(recipientKey: string): void {
    const pending = this.#pendingNow();
    pending.issued += 1;
    pending.recipients.add(hashKey(recipientKey));
  }

  /** The window's counts as of the last evaluation (metrics). */
  get counts(): Readonly<Record<AttackSignal, number>> {
    return this.#counts;
  }

  /**
   * Shares what was recorded, reads the window and answers the signal furthest past its
   * threshold, if any. Never rejects: store errors go to `onError`. Calls made while one
   * runs share its answer, so a slow store cannot stack evaluations or trigger twice.
   */
  evaluate(): Promise<AttackTrigger | null> {
    this.#running ??= this.#evaluate().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #evaluate(): Promise<AttackTrigger | null> {
    const now = this.#clock.now();
    try {
      await this.#flush();
      const [verifyFailed, issued, distinctRecipients] = await Promise.all([
        this.#counter.total('verify_failed', now),
        this.#counter.total('issued', now),
        this.#counter.distinct('recipients', now),
      ]);
      this.#counts = {
        verify_failed: verifyFailed,
        issued,
        distinct_recipients: distinctRecipients,
      };
    } catch (error) {
      this.#onError(error);
      return null;
    }
    if (now < this.#quietUntil) return null;
    const trigger = this.#worst();
    if (!trigger) return null;
    this.#quietUntil = now + this.#counter.windowMs;
    this.#onTrigger(trigger);
    return trigger;
  }

  #worst(): AttackTrigger | null {
    let worst: AttackSignal | null = null;
    const ratio = (signal: AttackSignal) => this.#counts[signal] / this.thresholds[signal];
    for (const signal of SIGNALS) {
      if (ratio(signal) >= 1 && (worst === null || ratio(signal) > ratio(worst))) worst = signal;
    }
    if (worst === null) return null;
    const count = this.#counts[worst];
    const threshold = this.thresholds[worst];
    const windowSeconds = this.#counter.windowMs / 1000;
    return {
      signal: worst,
      count,
      threshold,
      windowSeconds,
      reason: `automatic: ${count} ${LABELS[worst]} in ${windowSeconds} s (threshold ${threshold})`,
    };
  }

  /**
   * Buckets by the instant of recording, so a late flush still counts them in the right
   * bucket. Buckets already out of the window are dropped: memory stays bounded even if
   * nobody evaluates.
   */
  #pendingNow(): Pending {
    const { bucketMs, windowMs } = this.#counter;
    const bucket = bucketOf(this.#clock.now(), bucketMs);
    let pending = this.#pending.get(bucket);
    if (!pending) {
      for (const old of this.#pending.keys()) {
        if (old <= bucket - windowMs / bucketMs) this.#pending.delete(old);
      }
      pending = { verifyFailed: 0, issued: 0, recipients: new Set() };
      this.#pending.set(bucket, pending);
    }
    return pending;
  }

  /** Hands the recorded signals to the counter; lost if the store fails (they are estimates). */
  async #flush(): Promise<void> {
    const batches = this.#pending;
    this.#pending = new Map();
    const writes: Promise<void>[] = [];
    for (const [bucket, pending] of batches) {
      const at = bucket * this.#counter.bucketMs;
      if (pending.verifyFailed)
        writes.push(this.#counter.add('verify_failed', at, pending.verifyFailed));
      if (pending.issued) writes.push(this.#counter.add('issued', at, pending.issued));
      if (pending.recipients.size) {
        writes.push(this.#counter.addDistinct('recipients', at, [...pending.recipients]));
      }
    }
    await Promise.all(writes);
  }
}
