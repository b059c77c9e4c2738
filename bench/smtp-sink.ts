import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * An SMTP server that accepts every mail and throws it away, in the bench's own process.
 * The service's embedded catcher parses each mail (mailparser) inside the server process,
 * which would bill the server for work no production deployment does; with this sink the
 * server pays only for what it pays in production: rendering and the SMTP client.
 */
export class SmtpSink {
  /** Mails accepted so far. */
  received = 0;
  readonly #server: SMTPServer;
  #port = 0;

  constructor() {
    this.#server = new SMTPServer({
      logger: false,
      authOptional: true,
      // No TLS: the bench measures the service, not a handshake with a throwaway server.
      disabledCommands: ['STARTTLS'],
      disableReverseLookup: true,
      closeTimeout: 500,
      onData: (stream, _session, callback) => {
        stream.on('end', () => {
          this.received++;
          callback();
        });
        stream.resume();
      },
    });
    // Pooled clients hang up at shutdown; an unheard 'error' would throw.
    this.#server.on('error', () => {});
  }

  /** Starts listening on a free loopback port. */
  async start(): Promise<void> {
    const listener = this.#server.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    this.#port = (listener.address() as AddressInfo).port;
  }

  /** `smtp://127.0.0.1:PORT`. */
  get url(): string {
    return `smtp://127.0.0.1:${this.#port}`;
  }

  /** Stops listening (open sessions are closed after a moment). */
  stop(): Promise<void> {
    return new Promise((done) => this.#server.close(() => done()));
  }
}
