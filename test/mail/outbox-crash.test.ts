import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OutboxMail, Store } from '../../src/core/ports.js';
import { SealedBox } from '../../src/core/sealed-box.js';
import { OpaqueStrategy } from '../../src/core/strategies/opaque.js';
import { cryptoRandom } from '../../src/core/system.js';
import { Verifications } from '../../src/core/verification.js';
import { loadBranding } from '../../src/mail/branding.js';
import { DevCatcher } from '../../src/mail/dev-catcher.js';
import { OutboxWorker } from '../../src/mail/outbox-worker.js';
import { SmtpMailer } from '../../src/mail/smtp-mailer.js';
import { createVerificationRenderer } from '../../src/mail/templates.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import { FrozenClock } from '../support/clock.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
/** The worker's default lease, which the child runs with. */
const LEASE_MS = 60_000;

let dir: string;
let path: string;
let key: Buffer;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailproof-crash-'));
  path = join(dir, 'store.db');
  key = randomBytes(32);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** The crashing service: issues a verification of `email`; resolves once it printed the id. */
async function startChild(email: string) {
  const child = spawn(process.execPath, [
    '--import',
    'tsx',
    FIXTURE,
    path,
    key.toString('base64url'),
    email,
  ]);
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) await kill(child);
  });
  child.stderr.pipe(process.stderr);
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { id } = JSON.parse(line) as { id: string };
  return { child, id };
}

/** kill -9, resolved once the process is gone (so it holds no lock and no socket). */
async function kill(child: ChildProcessWithoutNullStreams): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  const [, signal] = await exited;
  expect(signal).toBe('SIGKILL');
}

async function open(): Promise<Store> {
  const store = await openSqliteStore({ path });
  cleanups.push(() => store.close());
  return store;
}

/**
 * An SMTP server that accepts connections and never says a word: a send to it hangs until
 * the greeting timeout, long after the child is killed.
 */
async function silentSmtpServer(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    // The killed child resets the connection; unheard, that error would throw here.
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * The restarted service, in this process: a fresh connection to the store, a clock past any
 * lease the child took, and a worker delivering to a dev catcher. Runs one round and returns
 * what it caught for `email` and the token of each link.
 */
async function restartAndDeliver(email: string) {
  const store = await open();
  const clock = new FrozenClock(Date.now() + LEASE_MS + 1000);
  const sealer = new SealedBox(key);
  const catcher = new DevCatcher();
  await catcher.start();
  cleanups.push(() => catcher.stop());
  const mailer = new SmtpMailer({ url: catcher.smtpUrl, from: 'no-reply@acme.test' });
  cleanups.push(() => mailer.close());
  const worker = new OutboxWorker({
    store,
    mailer,
    sealer,
    clock,
    render: createVerificationRenderer({
      publicUrl: 'https://verify.example.com',
      branding: loadBranding(),
      clock,
    }),
  });
  expect(await worker.runOnce()).toBe(1);

  const caught = catcher.list().filter((mail) => mail.to.includes(email));
  const tokens = caught.flatMap((mail) =>
    mail.links.map((link) => new URL(link).searchParams.get('token')),
  );
  const verifications = new Verifications({
    store,
    strategy: new OpaqueStrategy({ random: cryptoRandom }),
    sealer,
    clock,
  });
  return { store, caught, tokens, verifications };
}

/** What a delivered mail must look like: sent, and its sealed token erased. */
const delivered: Partial<OutboxMail> = { state: 'sent', payload: null, lastError: null };

describe('outbox across a kill -9', () => {
  it('sends after restart a mail whose delivery was under way when the process died', async () => {
    const email = 'mid-delivery@example.com';
    const smtpUrl = await silentSmtpServer();
    const { child, id } = await startChild(email);
    const watcher = await open();
    const [committed] = await watcher.listMailsFor(id);
    const mailId = committed!.id;

    child.stdin.write(`${smtpUrl}\n`);
    await vi.waitFor(
      async () => expect((await watcher.getMail(mailId))?.attempts).toBeGreaterThanOrEqual(1),
      { timeout: 5000, interval: 20 },
    );
    await kill(child);

    // Claimed, never recorded: leased to a dead worker, its payload still sealed inside.
    const orphan = await watcher.getMail(mailId);
    expect(orphan).toMatchObject({ state: 'pending', attempts: 1, lastError: null });
    expect(orphan!.payload).not.toBeNull();
    // Nobody takes it before the dead worker's lease runs out.
    expect(await watcher.claimMail(10, Date.now(), LEASE_MS)).toEqual([]);

    const { store, caught, tokens, verifications } = await restartAndDeliver(email);
    expect(caught).toHaveLength(1);
    expect(tokens).toHaveLength(1);
    expect(await verifications.verify(tokens[0])).toMatchObject({ status: 'verified', id });
    expect(await store.getMail(mailId)).toMatchObject({ ...delivered, attempts: 2 });
  });

  it('sends after restart a mail committed by a process that died before any worker ran', async () => {
    const email = 'committed-only@example.com';
    const { child, id } = await startChild(email);
    await kill(child);

    const { store, caught, tokens, verifications } = await restartAndDeliver(email);
    expect(caught).toHaveLength(1);
    expect(tokens).toHaveLength(1);
    expect(await verifications.verify(tokens[0])).toMatchObject({ status: 'verified', id });
    const [mail] = await store.listMailsFor(id);
    expect(mail).toMatchObject({ ...delivered, attempts: 1 });
  });
});
