/**
 * `mailproof serve` as a child process, like `test/support/server-process.ts` but with any
 * extra arguments (`--workers 2`) and with the whole environment in the caller's hands:
 * the cluster tests start several instances that share keys, a database and Redis.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import {
  CLI_ENTRY,
  childEnv,
  freePort,
  type LogLine,
  PROJECT_ROOT,
} from '../../support/server-process.js';

export type { LogLine };

/** A running `mailproof serve`. */
export interface ServeProcess {
  url: string;
  port: number;
  process: ChildProcess;
  /** Every log line so far (every process of a cluster writes to the same stdout). */
  logs(): LogLine[];
  stderr(): string;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal` (SIGKILL after `timeoutMs`); resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  exited(): Promise<number | null>;
}

export interface StartServeOptions {
  /** After `serve`, e.g. `['--workers', '2']`. */
  args?: string[];
  /** The environment besides PORT, HOST and MAILPROOF_PUBLIC_URL, which are set here. */
  env: Record<string, string | undefined>;
  /** Default 30 s: a cluster starts several tsx processes on a small machine. */
  startTimeoutMs?: number;
  /**
   * How to tell it started: its "mailproof listening on" line (default), or `/healthz`
   * answering 200, for a log level that hides info lines.
   */
  readyBy?: 'log' | 'healthz';
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

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `mailproof serve ARGS` on a free loopback port and resolves once a line says
 * "mailproof listening on" (for a cluster: the primary, once every worker listens).
 */
export async function startServe(options: StartServeOptions): Promise<ServeProcess> {
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
  const waiters = new Set<{ predicate: (line: LogLine) => boolean; resolve(l: LogLine): void }>();
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
      ? healthy(url, startTimeoutMs).then(() => ({}) as LogLine)
      : waitForLog(
          (line) => typeof line.msg === 'string' && line.msg.startsWith('mailproof listening on'),
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

/** The node processes whose parent is `pid` (not the esbuild helper tsx starts). */
export async function nodeChildren(pid: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)('ps', [
    '-o',
    'pid=,comm=',
    '--ppid',
    String(pid),
  ]).catch(
    // ps exits 1 when there is no such process.
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  return stdout
    .trim()
    .split('\n')
    .map((row) => row.trim().split(/\s+/))
    .filter(([, command]) => command === 'node')
    .map(([child]) => Number(child));
}

/** One answer: status, headers and the body parsed as JSON when it is JSON. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  text: string;
}

/**
 * A JSON request over `agent` (keep-alive or not), through node:http so that a socket error
 * is an error and not a retry.
 */
export function request(
  agent: http.Agent,
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: {
          ...headers,
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': payload.length }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            // A page or metrics text: kept in `text`.
          }
          resolve({ status: res.statusCode!, headers: res.headers, body: parsed, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The token of a mailed link. */
export function tokenOf(link: string): string {
  return new URL(link).searchParams.get('token')!;
}

/** The value of one sample of a Prometheus text exposition (the first one, no labels). */
export function metricValue(text: string, name: string): number | null {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

/** The q-quantile (0..1) of some numbers, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
