import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The project root: the CLI runs from here, as `npm start` would. */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The CLI entry point, run through tsx (no build needed). */
export const CLI_ENTRY = 'src/cli/main.ts';

/** The API key of every server these tests start. */
export const SERVER_API_KEY = 'e2e-api-key-0123456789abcdef';

/** One pino line from the server's stdout (or the raw text when a line is not JSON). */
export interface LogLine {
  msg?: string;
  level?: number;
  [field: string]: unknown;
}

/** A running `mailproof serve` child process on a loopback port. */
export interface ServeProcess {
  /** `http://127.0.0.1:PORT`, also the public URL of mailed links unless the env says otherwise. */
  url: string;
  port: number;
  process: ChildProcess;
  /** Sends `signal` (and SIGKILL if it has not exited after `timeoutMs`); resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** The exit code once the process has exited. */
  exited(): Promise<number | null>;
  /** Every log line so far (every process of a cluster writes to the same stdout). */
  logs(): LogLine[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** The first log line (so far or to come) that matches; rejects after `timeoutMs`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** How to start `mailproof serve`, with the environment in the caller's hands. */
export interface StartServeOptions {
  /** After `serve`, e.g. `['--workers', '2']`. */
  args?: string[];
  /** The environment besides PORT and HOST, which are set here. */
  env: Record<string, string | undefined>;
  /** How long to wait for it to start. Default 30 s. */
  startTimeoutMs?: number;
  /**
   * How to tell it started: its "mailproof listening on" line (default), or `/healthz`
   * answering 200, for a log level that hides info lines.
   */
  readyBy?: 'log' | 'healthz';
}

/** A server started by `startServer`: one instance with the e2e defaults. */
export interface ServerProcess extends ServeProcess {
  apiKey: string;
  /** `{ authorization: 'Bearer …' }` for the management API. */
  auth: { authorization: string };
  dataDir: string;
  databaseUrl: string;
}

export interface StartServerOptions {
  databaseUrl: string;
  strategy?: 'opaque' | 'jwt';
  /** Reused as is (and kept); without it a temporary one is made and removed by `stop()`. */
  dataDir?: string;
  /** Unset: the embedded catcher and `/dev/inbox`. */
  smtpUrl?: string;
  apiKey?: string;
  /** Extra environment, over everything else. */
  env?: Record<string, string>;
  /** How long to wait for the "listening" line. Default 20 s. */
  startTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
// A test run that dies must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A port nobody listens on right now (the kernel's pick for port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/**
 * The environment of a child: this process's, without any mailproof setting that a
 * developer's shell may carry (the tests decide every one of them).
 */
export function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('MAILPROOF_') || key === 'PORT' || key === 'HOST') continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/**
 * Starts one instance of the real CLI with the e2e defaults (its own data dir, API key,
 * strategy, database) and resolves once it logs that it listens.
 */
export async function startServer(options: StartServerOptions): Promise<ServerProcess> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'mailproof-e2e-')));
  const apiKey = options.apiKey ?? SERVER_API_KEY;
  try {
    const serve = await startServe({
      env: {
        MAILPROOF_DATA_DIR: dataDir,
        MAILPROOF_DATABASE_URL: options.databaseUrl,
        MAILPROOF_STRATEGY: options.strategy ?? 'opaque',
        MAILPROOF_API_KEY: apiKey,
        MAILPROOF_SMTP_URL: options.smtpUrl,
        ...options.env,
      },
      startTimeoutMs: options.startTimeoutMs ?? 20_000,
    });
    return {
      ...serve,
      apiKey,
      auth: { authorization: `Bearer ${apiKey}` },
      dataDir,
      databaseUrl: options.databaseUrl,
      async stop(signal, timeoutMs) {
        const code = await serve.stop(signal, timeoutMs);
        if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
        return code;
      },
    };
  } catch (error) {
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Starts `mailproof serve ARGS` as a child process on a free loopback port and resolves
 * once it started (for a cluster: the primary, once every worker listens). Rejects, with
 * its output, when it exits first.
 */
export async function startServe(options: StartServeOptions): Promise<ServeProcess> {
  // The port is free when picked but could be taken before the child binds it: retry then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt < 3 && String(error).includes('EADDRINUSE')) continue;
      throw error;
    }
  }
}

async function startOnce(options: StartServeOptions): Promise<ServeProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI_ENTRY, 'serve', ...(options.args ?? [])],
    {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv({
        MAILPROOF_LOG_LEVEL: 'info',
        MAILPROOF_PUBLIC_URL: url,
        ...options.env,
        PORT: String(port),
        HOST: '127.0.0.1',
      }),
    },
  );
  running.add(child);

  const lines: LogLine[] = [];
  const waiters = new Set<{
    predicate: (line: LogLine) => boolean;
    resolve(line: LogLine): void;
  }>();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      const parsed: unknown = JSON.parse(text);
      line =
        typeof parsed === 'object' && parsed !== null
          ? (parsed as LogLine)
          : { msg: text, raw: true };
    } catch {
      line = { msg: text, raw: true };
    }
    lines.push(line);
    for (const waiter of waiters) {
      if (waiter.predicate(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  });

  const exit = new Promise<number | null>((done) => {
    child.once('exit', (code) => {
      running.delete(child);
      // null when a signal ended it (see `process.signalCode`).
      done(code);
    });
  });
  const output = () =>
    `stdout:\n${lines.map((line) => JSON.stringify(line)).join('\n')}\nstderr:\n${stderr}`;

  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 10_000) => {
    const seen = lines.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((done, fail) => {
      const waiter = {
        predicate,
        resolve: (line: LogLine) => {
          clearTimeout(timer);
          done(line);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        fail(new Error(`no matching log line within ${timeoutMs} ms\n${output()}`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };

  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const listening =
    options.readyBy === 'healthz'
      ? healthy(url, startTimeoutMs)
      : waitForLog(
          (line) => typeof line.msg === 'string' && line.msg.includes('mailproof listening on'),
          startTimeoutMs,
        );
  const started = await Promise.race([
    listening.then(() => 'listening' as const),
    exit.then((code) => ({ code })),
  ]).catch((error: unknown) => ({ error }));
  if (started !== 'listening') {
    child.kill('SIGKILL');
    await exit;
    listening.catch(() => {});
    throw new Error(
      `mailproof serve did not start (${'code' in started ? `exit code ${started.code}` : String(started.error)})\n${output()}`,
    );
  }

  let stopped: Promise<number | null> | null = null;
  return {
    url,
    port,
    process: child,
    logs: () => [...lines],
    stderr: () => stderr,
    waitForLog,
    exited: () => exit,
    stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000) {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        const code = await exit;
        clearTimeout(timer);
        return code;
      })();
      return stopped;
    },
  };
}

/** Resolves once `url`/healthz answers 200; rejects after `timeoutMs`. */
async function healthy(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/healthz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url}/healthz did not answer 200 within ${timeoutMs} ms`);
}
