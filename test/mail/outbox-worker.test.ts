import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VerificationMailPayload } from '../../src/core/mail-payload.js';
import type { Mailer, MailMessage, Random, Store } from '../../src/core/ports.js';
import { SealedBox } from '../../src/core/sealed-box.js';
import { loadBranding } from '../../src/mail/branding.js';
import { DevCatcher } from '../../src/mail/dev-catcher.js';
import { OutboxWorker, type OutboxWorkerOptions } from '../../src/mail/outbox-worker.js';
import { SmtpMailer } from '../../src/mail/smtp-mailer.js';
import { createVerificationRenderer } from '../../src/mail/templates.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import { FrozenClock } from '../support/clock.js';

const DAY = 86_400_000;
const PUBLIC_URL = 'https://verify.example.com';
/** Zero bytes: no jitter, so delays are exactly `min(max, base * 2^(n-1))`. */
const noJitter: Random = { bytes: (size) => Buffer.alloc(size) };

let dir: string;
let store: Store;
let clock: FrozenClock;
let sealer: SealedBox;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailproof-outbox-'));
  store = await openSqliteStore({ path: join(dir, 'store.db') });
  clock = new FrozenClock();
  sealer = new SealedBox(randomBytes(32));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Commits a verification and its mail, as the lifecycle does; resolves with the mail id. */
async function commitMail(
  options: { token?: string; sealedWith?: SealedBox; expiresAt?: number } = {},
): Promise<string> {
  const now = clock.now();
  const expiresAt = options.expiresAt ?? now + DAY;
  const verificationId = randomUUID();
  const mailId = randomUUID();
  const payload: VerificationMailPayload = {
    kind: 'verification',
    token: options.token ?? 'tok',
    purpose: 'signup',
    expiresAt,
    resent: false,
  };
  await store.createVerification({
    verification: {
      id: verificationId,
      email: 'ada@example.com',
      emailKey: 'ada@example.com',
      subject: null,
      purpose: 'signup',
      status: 'pending',
      createdAt: now,
      expiresAt,
      verifiedAt: null,
      revokedAt: null,
    },
    token: { key: randomUUID(), verificationId, createdAt: now, expiresAt },
    mail: {
      id: mailId,
      verificationId,
      recipient: 'ada@example.com',
      payload: (options.sealedWith ?? sealer).seal(payload),
      createdAt: now,
    },
  });
  return mailId;
}

function worker(mailer: Mailer, options: Partial<OutboxWorkerOptions> = {}): OutboxWorker {
  const created = new OutboxWorker({
    store,
    mailer,
    sealer,
    clock,
    render: createVerificationRenderer({ publicUrl: PUBLIC_URL, branding: loadBranding(), clock }),
    random: noJitter,
    ...options,
  });
  cleanups.push(() => created.stop());
  return created;
}

async function catcher(port?: number): Promise<DevCatcher> {
  const started = new DevCatcher({ port });
  await started.start();
  cleanups.push(() => started.stop());
  return started;
}

function smtpMailer(url: string): SmtpMailer {
  const mailer = new SmtpMailer({ url, from: 'no-reply@acme.test' });
  cleanups.push(() => mailer.close());
  return mailer;
}

/** A mailer that records what it is given and fails while `failing`. */
class RecordingMailer implements Mailer {
  sent: MailMessage[] = [];
  failing = false;
  async send(message: MailMessage): Promise<void> {
    if (this.failing) throw new Error('550 no thanks');
    this.sent.push(message);
  }
  async close(): Promise<void> {}
}

describe('OutboxWorker', () => {
  it('delivers a committed mail as soon as it is notified, and erases the payload', async () => {
    const inbox = await catcher();
    const onSent = vi.fn();
    // A poll far in the future: only notify() can explain a prompt delivery.
    const running = worker(smtpMailer(inbox.smtpUrl), { pollIntervalMs: 60_000, onSent });
    running.start();

    const id = await commitMail({ token: 'abc-DEF_123' });
    running.notify();

    const caught = await inbox.waitFor((mail) => mail.to.includes('ada@example.com'));
    expect(caught.links).toEqual([`${PUBLIC_URL}/verify?token=abc-DEF_123`]);
    expect(caught.subject).toBe('Confirm your email address for mailproof');
    await vi.waitFor(async () => expect((await store.getMail(id))?.state).toBe('sent'));
    expect(await store.getMail(id)).toMatchObject({
      payload: null,
      attempts: 1,
      sentAt: clock.now(),
    });
    expect(onSent).toHaveBeenCalledWith(expect.objectContaining({ id }));
  });

  it('retries with growing backoff while SMTP is down and delivers once it is back', async () => {
    // Take a free port, then close it: SMTP is "down" until a catcher listens there again.
    const probe = await catcher();
    const url = probe.smtpUrl;
    const port = Number(new URL(url).port);
    await probe.stop();
    const outbox = worker(smtpMailer(url), { baseDelayMs: 1000, maxDelayMs: 60_000 });
    const id = await commitMail();

    for (const [attempt, delay] of [
      [1, 1000],
      [2, 2000],
      [3, 4000],
    ] as const) {
      expect(await outbox.runOnce()).toBe(1);
      const mail = await store.getMail(id);
      expect(mail).toMatchObject({ state: 'pending', attempts: attempt });
      expect(mail?.nextAttemptAt).toBe(clock.now() + delay);
      expect(mail?.lastError).toMatch(/SMTP send failed: .*ECONNREFUSED/);
      // Not due before its time.
      clock.advance(delay - 1);
      expect(await outbox.runOnce()).toBe(0);
      clock.advance(1);
    }

    const inbox = await catcher(port);
    expect(await outbox.runOnce()).toBe(1);
    expect(await store.getMail(id)).toMatchObject({ state: 'sent', attempts: 4, payload: null });
    expect(inbox.list()).toHaveLength(1);
  });

  it('caps the backoff at maxDelayMs and takes up to half of it off as jitter', async () => {
    const mailer = new RecordingMailer();
    mailer.failing = true;
    const allOnes: Random = { bytes: (size) => Buffer.alloc(size, 0xff) };
    const outbox = worker(mailer, { baseDelayMs: 1000, maxDelayMs: 3000, random: allOnes });
    const id = await commitMail();

    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      await outbox.runOnce();
      const mail = await store.getMail(id);
      delays.push((mail?.nextAttemptAt ?? 0) - clock.now());
      clock.set(mail?.nextAttemptAt ?? 0);
    }
    // Nominal 1000, 2000, 3000 (capped), 3000; the jitter takes almost half off each.
    expect(delays).toEqual([500, 1000, 1500, 1500]);
  });

  it('marks a mail dead after maxAttempts and keeps it visible with its last error', async () => {
    const mailer = new RecordingMailer();
    mailer.failing = true;
    const onFailed = vi.fn();
    const outbox = worker(mailer, { maxAttempts: 3, onFailed });
    const id = await commitMail();

    for (let i = 0; i < 3; i++) {
      expect(await outbox.runOnce()).toBe(1);
      clock.advance(60_000);
    }
    expect(await outbox.runOnce()).toBe(0);
    expect(await store.getMail(id)).toMatchObject({
      state: 'dead',
      attempts: 3,
      payload: null,
      lastError: '550 no thanks',
      sentAt: null,
    });
    expect(onFailed.mock.calls.map(([, , dead]) => dead)).toEqual([false, false, true]);
  });

  it('marks a mail whose payload does not open dead at once, without sending', async () => {
    const mailer = new RecordingMailer();
    const outbox = worker(mailer);
    const id = await commitMail({ sealedWith: new SealedBox(randomBytes(32)) });

    expect(await outbox.runOnce()).toBe(1);
    expect(mailer.sent).toEqual([]);
    const mail = await store.getMail(id);
    expect(mail).toMatchObject({ state: 'dead', attempts: 1, payload: null });
    expect(mail?.lastError).toMatch(/does not open with the outbox key/);
  });

  it('marks a mail whose link expired before delivery dead, without sending', async () => {
    const mailer = new RecordingMailer();
    const outbox = worker(mailer);
    const id = await commitMail({ expiresAt: clock.now() + 60_000 });
    clock.advance(60_000);

    await outbox.runOnce();
    expect(mailer.sent).toEqual([]);
    expect(await store.getMail(id)).toMatchObject({
      state: 'dead',
      lastError: 'the link expired before the mail could be sent',
    });
  });

  it('survives a throwing hook', async () => {
    const mailer = new RecordingMailer();
    const outbox = worker(mailer, {
      onSent: () => {
        throw new Error('metrics broke');
      },
    });
    const id = await commitMail();
    await outbox.runOnce();
    expect((await store.getMail(id))?.state).toBe('sent');
  });

  it('stop() waits for the send in flight, records it, and claims nothing after', async () => {
    let release = () => {};
    const started: MailMessage[] = [];
    const slow: Mailer = {
      send: (message) =>
        new Promise<void>((resolve) => {
          started.push(message);
          release = resolve;
        }),
      close: async () => {},
    };
    const running = worker(slow, { pollIntervalMs: 60_000 });
    const id = await commitMail();
    running.start();
    await vi.waitFor(() => expect(started).toHaveLength(1));

    let stopped = false;
    const stopping = running.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect((await store.getMail(id))?.state).toBe('sent');

    const later = await commitMail();
    running.notify();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await store.getMail(later))?.attempts).toBe(0);
  });

  it('keeps delivering after failed sends', async () => {
    const mailer = new RecordingMailer();
    mailer.failing = true;
    const running = worker(mailer, { pollIntervalMs: 10, baseDelayMs: 0 });
    const id = await commitMail();
    running.start();
    await vi.waitFor(async () => expect((await store.getMail(id))?.attempts).toBeGreaterThan(1));
    mailer.failing = false;
    await vi.waitFor(async () => expect((await store.getMail(id))?.state).toBe('sent'));
  });
});
