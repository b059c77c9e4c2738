import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Clock } from '../core/ports.js';
import { systemClock } from '../core/system.js';

/** One mail the catcher received. */
export interface CaughtMail {
  id: string;
  /** ms since the epoch. */
  receivedAt: number;
  /** The From header as text, or the envelope sender when the header is missing. */
  from: string;
  /** The envelope recipients: who the mail was actually for. */
  to: string[];
  subject: string;
  text: string | null;
  html: string | null;
  /** The verification links (`…/verify?token=…`) found in either part, in order, once each. */
  links: string[];
}

/** Where the catcher listens and how much it keeps. */
export interface DevCatcherOptions {
  /** Default 127.0.0.1: a development inbox is nobody else's business. */
  host?: string;
  /** Default 0: an ephemeral port, read it from `start()`. */
  port?: number;
  /** Mails kept, the oldest dropped first. Default 200. */
  capacity?: number;
  /** Larger messages are refused with 552. Default 2 MiB. */
  maxMessageBytes?: number;
  /** For `receivedAt`. Default: the system clock. */
  clock?: Clock;
}

const LINK_PATTERN = /https?:\/\/[^\s"'<>]+?\/verify\?token=[A-Za-z0-9._~-]+/g;

function findLinks(...parts: (string | null)[]): string[] {
  const found = parts.flatMap((part) => (part ? [...part.matchAll(LINK_PATTERN)] : []));
  return [...new Set(found.map((match) => match[0]))];
}

/**
 * An SMTP server that keeps what it receives in memory instead of delivering it: the inbox
 * of `/dev/inbox` when no SMTP URL is configured, and the far end of the mail tests. Plain
 * SMTP only (no STARTTLS, so no self-signed certificate to warn about), any or no login.
 */
export class DevCatcher {
  readonly #server: SMTPServer;
  readonly #host: string;
  readonly #requestedPort: number;
  readonly #capacity: number;
  readonly #clock: Clock;
  readonly #events = new EventEmitter();
  #mails: CaughtMail[] = [];
  #port: number | null = null;

  /** Nothing listens until `start()`. */
  constructor(options: DevCatcherOptions = {}) {
    this.#host = options.host ?? '127.0.0.1';
    this.#requestedPort = options.port ?? 0;
    this.#capacity = options.capacity ?? 200;
    this.#clock = options.clock ?? systemClock;
    this.#server = new SMTPServer({
      name: 'mailproof-dev-catcher',
      banner: 'mailproof development catcher: nothing is delivered',
      logger: false,
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      disableReverseLookup: true,
      size: options.maxMessageBytes ?? 2 * 1024 * 1024,
      // Idle pooled clients would otherwise hold `stop()` for the default 30 s.
      closeTimeout: 1000,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'anonymous' }),
      onData: (stream, session, callback) => {
        this.#receive(stream, session).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      },
    });
    // smtp-server re-emits every client's socket error here, and an unheard 'error' event
    // throws: a client hanging up mid-session must not bring the process down. A listen
    // error still reaches `start()` through the listener's own 'error' event.
    this.#server.on('error', () => {});
  }

  async #receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const parsed = await simpleParser(stream);
    if (stream.sizeExceeded) {
      throw Object.assign(new Error('Message exceeds the size limit'), { responseCode: 552 });
    }
    const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const text = parsed.text ?? null;
    const html = parsed.html || null;
    const mail: CaughtMail = {
      id: randomUUID(),
      receivedAt: this.#clock.now(),
      from: parsed.from?.text || envelopeFrom,
      to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
      subject: parsed.subject ?? '',
      text,
      html,
      links: findLinks(text, html),
    };
    this.#mails = [mail, ...this.#mails].slice(0, this.#capacity);
    this.#events.emit('mail', mail);
  }

  /** Starts listening; resolves with the port actually bound. */
  async start(): Promise<{ port: number }> {
    const listener = this.#server.listen(this.#requestedPort, this.#host);
    await once(listener, 'listening');
    this.#port = (listener.address() as AddressInfo).port;
    return { port: this.#port };
  }

  /** Stops listening and closes open connections (after at most a second). */
  async stop(): Promise<void> {
    if (this.#port === null) return;
    await new Promise<void>((resolve) => this.#server.close(resolve));
    this.#port = null;
  }

  /** `smtp://127.0.0.1:PORT`, for `SmtpMailer`. Throws before `start()`. */
  get smtpUrl(): string {
    if (this.#port === null) throw new Error('the dev catcher is not listening');
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `smtp://${host}:${this.#port}`;
  }

  /** The mails kept, newest first. */
  list(): CaughtMail[] {
    return [...this.#mails];
  }

  /** One mail by id, or null. */
  get(id: string): CaughtMail | null {
    return this.#mails.find((mail) => mail.id === id) ?? null;
  }

  /**
   * The newest kept mail that matches, or the next one to arrive; rejects after `timeoutMs`.
   * Looking at kept mails first means a test cannot miss a mail that beat it to the check.
   */
  waitFor(predicate: (mail: CaughtMail) => boolean, timeoutMs = 5000): Promise<CaughtMail> {
    const kept = this.#mails.find(predicate);
    if (kept) return Promise.resolve(kept);
    return new Promise((resolve, reject) => {
      const onMail = (mail: CaughtMail) => {
        if (!predicate(mail)) return;
        clearTimeout(timer);
        this.#events.off('mail', onMail);
        resolve(mail);
      };
      const timer = setTimeout(() => {
        this.#events.off('mail', onMail);
        reject(new Error(`no matching mail within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#events.on('mail', onMail);
    });
  }
}
