/**
 * The CLI as people run it: a process per command (`node --import tsx src/cli/main.ts …`),
 * its exit code and output. Spawning costs about a second, so independent runs go
 * concurrently and one server serves every test that needs one.
 */
import { createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, type ExpectStatic, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config.js';
import { DevCatcher } from '../../src/mail/dev-catcher.js';
import { type ServerProcess, startServer } from '../support/server-process.js';
import { type CliResult, mapLimited, runCli } from './run-cli.js';

/** Every flag of the configuration, e.g. `--database-url`. */
const CONFIG_FLAGS = SETTINGS.map((setting) => `--${setting.flag}`);

/** Each command's `--help`, and what it must list. */
const HELP: { args: string[]; lists: string[] }[] = [
  {
    args: [],
    lists: ['serve', 'migrate', 'keys', 'suspend', 'resume', 'status', 'send-test'],
  },
  { args: ['serve'], lists: [...CONFIG_FLAGS, ...SETTINGS.map((setting) => `[${setting.env}]`)] },
  { args: ['migrate'], lists: ['--database-url', '--data-dir'] },
  { args: ['keys'], lists: ['generate', 'rotate', 'list'] },
  { args: ['keys', 'generate'], lists: ['--help'] },
  { args: ['keys', 'rotate'], lists: ['--retire-after', '--data-dir'] },
  { args: ['keys', 'list'], lists: ['--data-dir', '--signing-keys', '--signing-keys-file'] },
  { args: ['suspend'], lists: ['--reason', '--seconds', '--database-url'] },
  { args: ['resume'], lists: ['--database-url'] },
  { args: ['status'], lists: ['--database-url'] },
  { args: ['send-test'], lists: ['<email>', '--smtp-url', '--mail-from'] },
];

/** A refused start: non-zero, one line on stderr naming the variable, no stack trace. */
function expectOneLineNaming(expect: ExpectStatic, result: CliResult, variable: string) {
  expect(result.code, result.stderr).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^mailproof: /);
  expect(lines[0]).toContain(variable);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mailproof-cli-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('one-shot commands', () => {
  describe('mailproof --help', () => {
    it('exits 0 and lists the options, on the root and on every command', async ({ expect }) => {
      const results = await mapLimited(HELP, Math.max(2, availableParallelism()), (entry) =>
        runCli([...entry.args, '--help']),
      );
      HELP.forEach((entry, i) => {
        const result = results[i]!;
        const name = ['mailproof', ...entry.args].join(' ');
        expect(result.code, `${name} --help: ${result.stderr}`).toBe(0);
        expect(result.stdout).toContain(`Usage: ${name} `);
        for (const item of entry.lists) expect(result.stdout, name).toContain(item);
      });
    });
  });

  describe('a bad configuration', () => {
    it('stops with one line naming the variable and a non-zero exit', async ({ expect }) => {
      const cases: { args: string[]; env: Record<string, string>; variable: string }[] = [
        { args: ['serve'], env: { MAILPROOF_STRATEGY: 'hmac' }, variable: 'MAILPROOF_STRATEGY' },
        { args: ['serve'], env: { PORT: 'x' }, variable: 'PORT' },
        {
          args: ['serve'],
          env: { MAILPROOF_DATABASE_URL: 'mysql://x' },
          variable: 'MAILPROOF_DATABASE_URL',
        },
        {
          args: ['serve'],
          env: { MAILPROOF_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' },
          variable: 'MAILPROOF_DATABASE_URL',
        },
        // A mistyped data dir: suspending a database no instance reads must not "succeed".
        {
          args: ['suspend', '--reason', 'typo'],
          env: { MAILPROOF_DATA_DIR: join(scratch, 'no-such-data-dir') },
          variable: 'MAILPROOF_DATABASE_URL',
        },
      ];
      const results = await mapLimited(cases, Math.max(2, availableParallelism()), (entry, i) =>
        runCli(entry.args, { MAILPROOF_DATA_DIR: join(scratch, `bad-${i}`), ...entry.env }),
      );
      cases.forEach(({ variable }, i) => {
        expectOneLineNaming(expect, results[i]!, variable);
      });
      expect(existsSync(join(scratch, 'no-such-data-dir'))).toBe(false);
    });
  });

  describe('mailproof migrate', () => {
    it('applies the migrations of a fresh SQLite file, then finds nothing to do', async ({
      expect,
    }) => {
      const env = { MAILPROOF_DATABASE_URL: `sqlite:${join(scratch, 'migrate', 'fresh.db')}` };
      await mkdir(join(scratch, 'migrate'));
      const first = await runCli(['migrate'], env);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^applied migrations \d+(, \d+)*; schema version \d+$/m);
      const second = await runCli(['migrate'], env);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/^schema up to date \(version \d+\)$/m);
    });
  });

  describe('mailproof keys generate', () => {
    it('prints a JWKS with one Ed25519 private key', async ({ expect }) => {
      const result = await runCli(['keys', 'generate']);
      expect(result.code, result.stderr).toBe(0);
      const jwks = JSON.parse(result.stdout) as { keys: Record<string, string>[] };
      expect(jwks.keys).toHaveLength(1);
      const jwk = jwks.keys[0]!;
      expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
      expect(typeof jwk.kid).toBe('string');
      expect(typeof jwk.d).toBe('string');
      // It is a usable private key, not just a shape.
      const key = createPrivateKey({ key: jwk, format: 'jwk' });
      expect(key.asymmetricKeyType).toBe('ed25519');
    });
  });

  describe('mailproof send-test', () => {
    let catcher: DevCatcher;

    beforeAll(async () => {
      catcher = new DevCatcher();
      await catcher.start();
    });

    afterAll(async () => {
      await catcher.stop();
    });

    it('delivers a mail through the configured SMTP server', async ({ expect }) => {
      const result = await runCli(['send-test', 'smtp-check@example.com'], {
        MAILPROOF_SMTP_URL: catcher.smtpUrl,
        MAILPROOF_DATA_DIR: join(scratch, 'send-test'),
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('sent a test mail to smtp-check@example.com');
      const mail = await catcher.waitFor((m) => m.to.includes('smtp-check@example.com'), 5000);
      expect(mail.subject).toContain('test mail');
    });

    it('refuses without an SMTP URL, in one clear line', async ({ expect }) => {
      const result = await runCli(['send-test', 'smtp-check@example.com'], {
        MAILPROOF_DATA_DIR: join(scratch, 'send-test'),
      });
      expectOneLineNaming(expect, result, 'MAILPROOF_SMTP_URL');
    });
  });
});

describe('next to a running server', () => {
  let server: ServerProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    const dataDir = join(scratch, 'served');
    // jwt: the server makes the first signing key, which `keys rotate` then follows.
    server = await startServer({
      databaseUrl: `sqlite:${join(dataDir, 'mailproof.db')}`,
      dataDir,
      strategy: 'jwt',
    });
    env = { MAILPROOF_DATA_DIR: dataDir };
  });

  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  /** POST /v1/verify with a token that is no good: 400 while active, 503 while suspended. */
  async function verifyAnswer(): Promise<{
    status: number;
    code: string;
    retryAfter: string | null;
  }> {
    const response = await fetch(`${server.url}/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'no-such-token' }),
    });
    const body = (await response.json()) as { error?: { code?: string } };
    return {
      status: response.status,
      code: body.error?.code ?? '',
      retryAfter: response.headers.get('retry-after'),
    };
  }

  /** How long until the server answers with `status` (polling every 50 ms, for at most 5 s). */
  async function msUntil(status: number): Promise<number> {
    const start = Date.now();
    while ((await verifyAnswer()).status !== status) {
      if (Date.now() - start > 5000) throw new Error(`the server did not answer ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return Date.now() - start;
  }

  it('suspends and resumes: status tells, and the server follows within 2 s', async () => {
    expect(await verifyAnswer()).toMatchObject({ status: 400, code: 'invalid_token' });

    const suspend = await runCli(['suspend', '--reason', 'x', '--seconds', '60'], env);
    expect(suspend.code, suspend.stderr).toBe(0);
    expect(suspend.stdout).toMatch(/^suspended \d{4}-\d\d-\d\dT[\d:.]+Z: x$/m);
    expect(await msUntil(503)).toBeLessThan(2000);
    const refused = await verifyAnswer();
    expect(refused).toMatchObject({ status: 503, code: 'suspended' });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);

    const suspended = await runCli(['status'], env);
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(suspended.stdout).toMatch(/^suspended .*\(by an operator\): x$/m);
    expect(suspended.stdout).toMatch(/^outbox: \d+ pending, \d+ dead$/m);

    const resume = await runCli(['resume'], env);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout.trim()).toBe('resumed');
    expect(await msUntil(400)).toBeLessThan(2000);

    const active = await runCli(['status'], env);
    expect(active.code, active.stderr).toBe(0);
    expect(active.stdout).toMatch(/^active/m);
  });

  it('rotates the signing key: two keys listed, the new one signing', async () => {
    const rotate = await runCli(['keys', 'rotate'], env);
    expect(rotate.code, rotate.stderr).toBe(0);
    const created = /^new signing key (\S+)/m.exec(rotate.stdout)?.[1];
    expect(created, rotate.stdout).toBeDefined();

    const list = await runCli(['keys', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    const keys = list.stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/));
    expect(keys).toHaveLength(2);
    const signing = keys.filter((key) => key[1] === 'signing');
    expect(signing).toHaveLength(1);
    expect(signing[0]![0]).toBe(created);
    expect(keys.find((key) => key[0] !== created)?.[1]).toBe('verifying');
  });
});
