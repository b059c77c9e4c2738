import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import type { StrategyName } from '../../src/core/strategies/strategy.js';
import { loadBranding } from '../../src/mail/branding.js';
import { DevCatcher } from '../../src/mail/dev-catcher.js';
import { OutboxWorker } from '../../src/mail/outbox-worker.js';
import { SmtpMailer } from '../../src/mail/smtp-mailer.js';
import { createVerificationRenderer } from '../../src/mail/templates.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import { makeLifecycle, makeStrategy, strategyNames } from '../support/lifecycle.js';

const EMAILS = ['ada@example.com', 'grace@example.com', 'alan@example.com'];

/** Everything SQLite keeps of the database on disk: the file, its WAL and its WAL index. */
function databaseBytes(path: string): Buffer[] {
  return [path, `${path}-wal`, `${path}-shm`].filter(existsSync).map((file) => readFileSync(file));
}

function found(files: Buffer[], needle: Buffer): boolean {
  return files.some((bytes) => bytes.includes(needle));
}

/**
 * The byte strings that would give a token away. A JWT's header and claims can be rebuilt
 * from what the store keeps (its `jti` is the lookup key), so its signature, as text and as
 * the raw 64 bytes, is what must not be there; an opaque token is its 32 random bytes.
 */
function secretForms(strategy: StrategyName, token: string): Record<string, Buffer> {
  const text = Buffer.from(token, 'utf8');
  if (strategy === 'opaque') return { text, bytes: Buffer.from(token, 'base64url') };
  const signature = token.split('.')[2]!;
  return {
    text,
    'signature text': Buffer.from(signature, 'utf8'),
    'signature bytes': Buffer.from(signature, 'base64url'),
  };
}

describe.each(strategyNames)('tokens at rest in an SQLite file, %s strategy', (strategyName) => {
  let dir: string;
  let path: string;
  let store: Store;
  let catcher: DevCatcher;
  let mailer: SmtpMailer;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailproof-at-rest-'));
    path = join(dir, 'store.db');
    store = await openSqliteStore({ path });
    catcher = new DevCatcher();
    await catcher.start();
    mailer = new SmtpMailer({ url: catcher.smtpUrl, from: 'no-reply@acme.test' });
  });

  afterEach(async () => {
    await mailer.close();
    await catcher.stop();
    // The test closes it itself to checkpoint; closing an SQLite store twice is harmless.
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Fails naming the token and the form found; proves the grep works with a known value. */
  function expectNoTokenOnDisk(tokens: string[]): void {
    const files = databaseBytes(path);
    for (const email of EMAILS) expect(found(files, Buffer.from(email)), email).toBe(true);
    for (const token of tokens) {
      for (const [name, form] of Object.entries(secretForms(strategyName, token))) {
        expect(found(files, form), `${name} of ${token}`).toBe(false);
      }
    }
  }

  it('keeps no token in clear, queued, delivered and verified, or checkpointed', async () => {
    const { verifications, clock, sealer, mailedTokens } = makeLifecycle(
      store,
      makeStrategy(strategyName),
    );
    const ids: string[] = [];
    for (const email of EMAILS) ids.push((await verifications.issue({ email })).id);
    // A resend writes its token and mail by another path than issue.
    await verifications.resend(EMAILS[0]);
    const tokens = (await Promise.all(ids.map(mailedTokens))).flat();
    expect(tokens).toHaveLength(EMAILS.length + 1);

    expectNoTokenOnDisk(tokens);

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
    expect(await worker.runOnce()).toBe(tokens.length);
    // The tokens grepped for are the ones people received.
    const linked = catcher
      .list()
      .flatMap((mail) => mail.links.map((link) => new URL(link).searchParams.get('token')));
    expect(linked.sort()).toEqual([...tokens].sort());
    for (const token of tokens) {
      expect(['verified', 'already_verified']).toContain(
        (await verifications.verify(token)).status,
      );
    }

    expectNoTokenOnDisk(tokens);

    // Closing checkpoints the WAL into the database file proper.
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    expectNoTokenOnDisk(tokens);
  });
});
