import type { VerificationMailPayload } from '../core/mail-payload.js';
import type { Clock, Mailer, MailMessage, OutboxMail, Random, Store } from '../core/ports.js';
import type { SealedBox } from '../core/sealed-box.js';
import { cryptoRandom } from '../core/system.js';

/** The logging the worker needs; pino's logger fits it. */
export interface WorkerLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** What the worker delivers with, and how patiently. Durations in ms. */
export interface OutboxWorkerOptions {
  store: Store;
  mailer: Mailer;
  /** Opens the sealed payloads; must hold the key they were sealed with. */
  sealer: SealedBox;
  /** Renders a mail at delivery time, e.g. `createVerificationRenderer(...)`. */
  render: (mail: OutboxMail, payload: VerificationMailPayload) => MailMessage;
  /** The only source of time for due dates and backoff. */
  clock: Clock;
  /** Mails claimed, and sent concurrently, per round. Default 10. */
  batchSize?: number;
  /** How long a claim keeps other workers off a mail. Default 60 s: more than a send may take. */
  leaseMs?: number;
  /** Failed attempts after which a mail is dead. Default 8. */
  maxAttempts?: number;
  /** Delay after the first failure; doubles with each further one. Default 1 s. */
  baseDelayMs?: number;
  /** The cap of that delay. Default 60 s. */
  maxDelayMs?: number;
  /** How often to look for due mails when nobody calls `notify()`. Default 1 s. */
  pollIntervalMs?: number;
  /** Jitter source. Default: the CSPRNG; tests pass zero bytes for exact delays. */
  random?: Random;
  logger?: WorkerLogger;
  /** Called once a mail was accepted by the mail server (metrics). */
  onSent?: (mail: OutboxMail) => void;
  /** Called after each failed attempt; `dead` when the mail will not be tried again (metrics). */
  onFailed?: (mail: OutboxMail, error: string, dead: boolean) => void;
}

const silentLogger: WorkerLogger = { info() {}, warn() {}, error() {} };

/** Stored errors are for people reading an admin view, not for whole SMTP transcripts. */
const MAX_ERROR_LENGTH = 500;

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, MAX_ERROR_LENGTH);
}

function isVerificationPayload(value: unknown): value is VerificationMailPayload {
  const payload = value as Partial<VerificationMailPayload> | null;
  return (
    payload?.kind === 'verification' &&
    typeof payload.token === 'string' &&
    typeof payload.expiresAt === 'number'
  );
}

/**
 * Delivers the outbox: claims due mails, opens their sealed payload, renders and sends
 * them, and records the outcome. A failed send is retried with exponential backoff
 * (`min(maxDelay, base * 2^(attempts-1))`, less up to half of it as jitter so that many
 * mails failing together do not retry together); after `maxAttempts` the mail is dead, and
 * stays visible with its last error. A payload that no longer opens (the key changed) or
 * whose token expired before it could be sent is dead at once: retrying cannot help.
 *
 * Nothing a mail, the mailer or a hook does stops the worker; each send is bounded by the
 * mailer's own timeouts.
 */
export class OutboxWorker {
  readonly #store: Store;
  readonly #mailer: Mailer;
  readonly #sealer: SealedBox;
  readonly #render: OutboxWorkerOptions['render'];
  readonly #clock: Clock;
  readonly #batchSize: number;
  readonly #leaseMs: number;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #pollIntervalMs: number;
  readonly #random: Random;
  readonly #logger: WorkerLogger;
  readonly #onSent: OutboxWorkerOptions['onSent'];
  readonly #onFailed: OutboxWorkerOptions['onFailed'];
  #loop: Promise<void> | null = null;
  #running = false;
  /** Set by `notify()`, so a wake-up that comes mid-round is not lost. */
  #notified = false;
  #wake: (() => void) | null = null;

  /** Does nothing until `start()` (or `runOnce()`). */
  constructor(options: OutboxWorkerOptions) {
    this.#store = options.store;
    this.#mailer = options.mailer;
    this.#sealer = options.sealer;
    this.#render = options.render;
    this.#clock = options.clock;
    this.#batchSize = options.batchSize ?? 10;
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#maxAttempts = options.maxAttempts ?? 8;
    this.#baseDelayMs = options.baseDelayMs ?? 1000;
    this.#maxDelayMs = options.maxDelayMs ?? 60_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#random = options.random ?? cryptoRandom;
    this.#logger = options.logger ?? silentLogger;
    this.#onSent = options.onSent;
    this.#onFailed = options.onFailed;
  }

  /** Starts polling in the background; a second call does nothing. */
  start(): void {
    if (this.#loop) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops claiming, lets the sends in flight finish and record their outcome, then resolves. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
  }

  /** Looks for due mails now instead of at the next poll: call it after committing a mail. */
  notify(): void {
    this.#notified = true;
    this.#wake?.();
  }

  /**
   * Claims one batch of due mails and delivers it, all sends concurrently. Resolves with the
   * number claimed once each outcome is recorded; rejects only when claiming fails.
   */
  async runOnce(): Promise<number> {
    const mails = await this.#store.claimMail(this.#batchSize, this.#clock.now(), this.#leaseMs);
    await Promise.all(mails.map((mail) => this.#deliver(mail)));
    return mails.length;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      this.#notified = false;
      let claimed = 0;
      try {
        claimed = await this.runOnce();
      } catch (error) {
        this.#logger.error({ err: error }, 'outbox: claiming mails failed');
      }
      // A full batch suggests more are due: go on without waiting.
      if (this.#running && claimed < this.#batchSize && !this.#notified) {
        await this.#sleep();
      }
    }
  }

  #sleep(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(wake, this.#pollIntervalMs);
      this.#wake = wake;
    });
  }

  /** The payload, or why it cannot be had: a reason for a dead mail. */
  #open(mail: OutboxMail): VerificationMailPayload | string {
    if (mail.payload === null) return 'the payload is gone';
    let opened: unknown;
    try {
      opened = this.#sealer.open<unknown>(mail.payload);
    } catch (error) {
      return `the payload does not open with the outbox key (was the key changed?): ${errorText(error)}`;
    }
    return isVerificationPayload(opened) ? opened : 'the payload is not a verification mail';
  }

  async #deliver(mail: OutboxMail): Promise<void> {
    const payload = this.#open(mail);
    if (typeof payload === 'string') {
      await this.#fail(mail, payload, true);
      return;
    }
    if (payload.expiresAt <= this.#clock.now()) {
      await this.#fail(mail, 'the link expired before the mail could be sent', true);
      return;
    }
    try {
      await this.#mailer.send(this.#render(mail, payload));
    } catch (error) {
      const dead = mail.attempts >= this.#maxAttempts;
      await this.#fail(mail, errorText(error), dead);
      return;
    }
    try {
      await this.#store.markMailSent(mail.id, this.#clock.now());
    } catch (error) {
      // Sent but not recorded: the lease runs out and it goes again. Twice beats never.
      this.#logger.error({ err: error, mailId: mail.id }, 'outbox: recording a sent mail failed');
      return;
    }
    this.#logger.info({ mailId: mail.id, attempts: mail.attempts }, 'outbox: mail sent');
    this.#hook(() => this.#onSent?.(mail));
  }

  async #fail(mail: OutboxMail, error: string, dead: boolean): Promise<void> {
    const nextAttemptAt = this.#clock.now() + this.#backoffMs(mail.attempts);
    try {
      await this.#store.markMailFailed(mail.id, error, nextAttemptAt, dead);
    } catch (storeError) {
      // Unrecorded, the claim simply lapses and the mail is tried again after the lease.
      this.#logger.error(
        { err: storeError, mailId: mail.id },
        'outbox: recording a failure failed',
      );
      return;
    }
    const fields = { mailId: mail.id, attempts: mail.attempts, error };
    if (dead) this.#logger.error(fields, 'outbox: mail is dead, it will not be tried again');
    else this.#logger.warn({ ...fields, nextAttemptAt }, 'outbox: send failed, will retry');
    this.#hook(() => this.#onFailed?.(mail, error, dead));
  }

  /** `attempts` counts this one: the first failure waits `base`. */
  #backoffMs(attempts: number): number {
    const delay = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** Math.max(0, attempts - 1));
    const fraction = this.#random.bytes(4).readUInt32BE(0) / 2 ** 32;
    return Math.round(delay * (1 - fraction / 2));
  }

  #hook(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#logger.error({ err: error }, 'outbox: a delivery hook threw');
    }
  }
}
