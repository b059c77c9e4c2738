import { afterEach, describe, expect, it } from 'vitest';
import { DevCatcher } from '../../src/mail/dev-catcher.js';
import { SmtpMailer } from '../../src/mail/smtp-mailer.js';
import { FrozenClock } from '../support/clock.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: { capacity?: number; maxMessageBytes?: number } = {}) {
  const clock = new FrozenClock();
  const catcher = new DevCatcher({ ...options, clock });
  const { port } = await catcher.start();
  const mailer = new SmtpMailer({ url: catcher.smtpUrl, from: 'no-reply@acme.test' });
  cleanups.push(
    () => catcher.stop(),
    () => mailer.close(),
  );
  const send = (to: string, body = `hello ${to}`) =>
    mailer.send({ to, subject: `for ${to}`, text: body, html: `<p>${body}</p>` });
  return { catcher, clock, port, send };
}

describe('DevCatcher', () => {
  it('listens on an ephemeral loopback port', async () => {
    const { catcher, port } = await setup();
    expect(port).toBeGreaterThan(0);
    expect(catcher.smtpUrl).toBe(`smtp://127.0.0.1:${port}`);
  });

  it('keeps parsed mails newest first, with the clock time and the verify links', async () => {
    const { catcher, clock, send } = await setup();
    await send('a@example.com', 'see https://x.test/verify?token=T1 and https://x.test/other');
    clock.advance(1000);
    await send('b@example.com', 'https://x.test/verify?token=T2 https://x.test/verify?token=T2');

    const [newest, oldest] = catcher.list();
    expect(newest).toMatchObject({
      to: ['b@example.com'],
      subject: 'for b@example.com',
      from: 'no-reply@acme.test',
      receivedAt: clock.now(),
      links: ['https://x.test/verify?token=T2'],
    });
    expect(oldest?.links).toEqual(['https://x.test/verify?token=T1']);
    expect(oldest?.html).toContain('<p>see https://x.test/verify?token=T1');
    expect(catcher.get(oldest?.id ?? '')).toEqual(oldest);
    expect(catcher.get('nope')).toBeNull();
  });

  it('drops the oldest mail past its capacity', async () => {
    const { catcher, send } = await setup({ capacity: 2 });
    for (const to of ['1@example.com', '2@example.com', '3@example.com']) await send(to);
    expect(catcher.list().map((mail) => mail.to[0])).toEqual(['3@example.com', '2@example.com']);
  });

  it('refuses a message over the size limit', async () => {
    const { catcher, send } = await setup({ maxMessageBytes: 10_000 });
    await expect(send('big@example.com', 'x'.repeat(20_000))).rejects.toThrow(/552/);
    expect(catcher.list()).toEqual([]);
  });

  it('waitFor resolves with a mail already caught or the next one, and times out', async () => {
    const { catcher, send } = await setup();
    await send('early@example.com');
    await expect(
      catcher.waitFor((mail) => mail.to.includes('early@example.com')),
    ).resolves.toMatchObject({ subject: 'for early@example.com' });

    const late = catcher.waitFor((mail) => mail.to.includes('late@example.com'), 5000);
    await send('other@example.com');
    await send('late@example.com');
    await expect(late).resolves.toMatchObject({ subject: 'for late@example.com' });

    await expect(catcher.waitFor(() => false, 50)).rejects.toThrow(/no matching mail within 50 ms/);
  });

  it('stops promptly even with a pooled client connected, and can be stopped twice', async () => {
    const { catcher, send } = await setup();
    await send('a@example.com');
    const started = Date.now();
    await catcher.stop();
    await catcher.stop();
    expect(Date.now() - started).toBeLessThan(2500);
    expect(() => catcher.smtpUrl).toThrow(/not listening/);
  });
});
