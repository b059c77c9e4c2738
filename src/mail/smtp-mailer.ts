import nodemailer, { type Transporter } from 'nodemailer';
import { ConfigError, UnavailableError } from '../core/errors.js';
import type { Mailer, MailMessage } from '../core/ports.js';

/** How `SmtpMailer` connects and how long it waits. Every duration is in seconds. */
export interface SmtpMailerOptions {
  /** `smtp://[user:pass@]host[:port]` (STARTTLS when offered) or `smtps://` (TLS from the start). */
  url: string;
  /** The From header, e.g. `mailproof <no-reply@example.com>`. */
  from: string;
  /** To open the TCP connection. Default 5. */
  connectionTimeoutSeconds?: number;
  /** For the server's greeting once connected. Default 5. */
  greetingTimeoutSeconds?: number;
  /** Of silence on an open connection. Default 10. */
  socketTimeoutSeconds?: number;
  /**
   * For one whole send, waiting for a pooled connection included: a server that trickles
   * its replies never trips the socket timeout. Default 30, under the outbox lease.
   */
  sendTimeoutSeconds?: number;
  /** Pooled connections. Default 5. */
  maxConnections?: number;
}

interface SmtpEndpoint {
  host: string;
  port?: number;
  secure: boolean;
  auth?: { user: string; pass: string };
}

function parseSmtpUrl(url: string): SmtpEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('MAILPROOF_SMTP_URL', 'not a URL (expected smtp://user:pass@host:port)');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new ConfigError(
      'MAILPROOF_SMTP_URL',
      `scheme must be smtp: or smtps:, not ${parsed.protocol}`,
    );
  }
  // IPv6 literals keep their brackets in URL.hostname; sockets want them without.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) {
    throw new ConfigError('MAILPROOF_SMTP_URL', 'has no host');
  }
  // Refused rather than ignored: an option the operator believes applied would be worse.
  if (parsed.search || parsed.hash || (parsed.pathname && parsed.pathname !== '/')) {
    throw new ConfigError('MAILPROOF_SMTP_URL', 'takes no path, query or fragment');
  }
  const endpoint: SmtpEndpoint = { host, secure: parsed.protocol === 'smtps:' };
  if (parsed.port) endpoint.port = Number(parsed.port);
  if (parsed.username || parsed.password) {
    try {
      endpoint.auth = {
        user: decodeURIComponent(parsed.username),
        pass: decodeURIComponent(parsed.password),
      };
    } catch {
      throw new ConfigError('MAILPROOF_SMTP_URL', 'user or password is not valid percent-encoding');
    }
  }
  return endpoint;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}

/**
 * `Mailer` over SMTP with pooled connections. Timeouts are seconds, not nodemailer's minutes,
 * so a dead or stalled server fails a send quickly and the outbox retries it later.
 * Failures reject with `UnavailableError`, whose message says what the server (or the
 * network) answered; it never contains the credentials.
 */
export class SmtpMailer implements Mailer {
  readonly #transport: Transporter;
  readonly #from: string;
  readonly #sendTimeoutMs: number;

  /** Throws `ConfigError` naming `MAILPROOF_SMTP_URL` or `MAILPROOF_MAIL_FROM` when they are wrong. */
  constructor(options: SmtpMailerOptions) {
    const endpoint = parseSmtpUrl(options.url);
    if (!options.from.trim()) {
      throw new ConfigError('MAILPROOF_MAIL_FROM', 'is empty');
    }
    this.#from = options.from;
    this.#sendTimeoutMs = (options.sendTimeoutSeconds ?? 30) * 1000;
    this.#transport = nodemailer.createTransport({
      pool: true,
      maxConnections: options.maxConnections ?? 5,
      ...endpoint,
      connectionTimeout: (options.connectionTimeoutSeconds ?? 5) * 1000,
      greetingTimeout: (options.greetingTimeoutSeconds ?? 5) * 1000,
      socketTimeout: (options.socketTimeoutSeconds ?? 10) * 1000,
      // A lost connection fails the send; the outbox decides when to retry, with backoff.
      maxRequeues: 0,
    });
  }

  /** Sends one mail; resolves once the server accepted it. */
  async send(message: MailMessage): Promise<void> {
    try {
      await this.#transport.sendMail({
        from: this.#from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        signal: AbortSignal.timeout(this.#sendTimeoutMs),
      });
    } catch (cause) {
      throw new UnavailableError(`SMTP send failed: ${describe(cause)}`, { cause });
    }
  }

  /** Closes the pool: idle connections at once, a connection mid-send once it is done. */
  async close(): Promise<void> {
    this.#transport.close();
  }
}
