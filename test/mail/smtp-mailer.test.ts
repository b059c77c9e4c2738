import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, UnavailableError } from '../../src/core/errors.js';
import { DevCatcher } from '../../src/mail/dev-catcher.js';
import { SmtpMailer } from '../../src/mail/smtp-mailer.js';

const message = {
  to: 'ada@example.com',
  subject: 'Confirm your email address for Acme',
  text: 'Open https://verify.example.com/verify?token=abc_DEF-123.x\n',
  html: '<a href="https://verify.example.com/verify?token=abc_DEF-123.x">Confirm</a>',
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startCatcher(): Promise<DevCatcher> {
  const catcher = new DevCatcher();
  await catcher.start();
  cleanups.push(() => catcher.stop());
  return catcher;
}

function mailer(url: string, options: { greetingTimeoutSeconds?: number } = {}): SmtpMailer {
  const created = new SmtpMailer({ url, from: 'Acme <no-reply@acme.test>', ...options });
  cleanups.push(() => created.close());
  return created;
}

/** A TCP server that accepts and then says nothing: an SMTP server that hangs. */
async function silentServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('SmtpMailer', () => {
  it('delivers over real SMTP to the dev catcher, text and HTML', async () => {
    const catcher = await startCatcher();
    await mailer(catcher.smtpUrl).send(message);

    const [caught] = catcher.list();
    expect(caught).toMatchObject({
      from: '"Acme" <no-reply@acme.test>',
      to: ['ada@example.com'],
      subject: message.subject,
      links: ['https://verify.example.com/verify?token=abc_DEF-123.x'],
    });
    expect(caught?.text).toContain('https://verify.example.com/verify?token=abc_DEF-123.x');
    expect(caught?.html).toContain('href="https://verify.example.com/verify?token=abc_DEF-123.x"');
  });

  it('sends with percent-encoded credentials from the URL', async () => {
    const catcher = await startCatcher();
    const url = catcher.smtpUrl.replace('smtp://', 'smtp://user%40acme:p%3Ass@');
    await mailer(url).send(message);
    expect(catcher.list()).toHaveLength(1);
  });

  it('rejects within seconds when nothing listens', async () => {
    const started = Date.now();
    const send = mailer(`smtp://127.0.0.1:${await closedPort()}`).send(message);
    await expect(send).rejects.toThrow(UnavailableError);
    await expect(send).rejects.toThrow(/ECONNECTION|ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('gives up on a server that never greets after the greeting timeout, not minutes', async () => {
    const port = await silentServer();
    const started = Date.now();
    await expect(mailer(`smtp://127.0.0.1:${port}`).send(message)).rejects.toThrow(
      /SMTP send failed: .*(greeting|timeout)/i,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(4500);
    expect(elapsed).toBeLessThan(8000);
  }, 15_000);

  it.each([
    ['not a url'],
    ['http://mail.example.com'],
    ['smtp://'],
    ['smtp://mail.example.com:25/path'],
    ['smtp://mail.example.com?tls.rejectUnauthorized=false'],
  ])('refuses %s with a ConfigError naming MAILPROOF_SMTP_URL', (url) => {
    const create = () => new SmtpMailer({ url, from: 'no-reply@acme.test' });
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(/^MAILPROOF_SMTP_URL: /);
  });

  it('parses smtps:// and bracketed IPv6 hosts', async () => {
    await mailer('smtps://user:pass@[::1]:465').close();
    await mailer('smtp://mail.example.com').close();
  });
});
