/**
 * Helpers of the protection suites that drive the whole app through `app.inject()`: calls
 * from a chosen client address, several instances over one database (and one Redis), a
 * Redis database of each suite's own, polling with a deadline, and reading /metrics.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.js';
import type { StrategyName } from '../../src/core/strategies/strategy.js';
import { buildApp } from '../../src/http/app.js';
import { connectRedis } from '../../src/protection/redis.js';
import { createLogger } from '../../src/service/logger.js';
import { openService, type Service } from '../../src/service/service.js';
import { redisUrl } from '../protection/support/redis.js';
import { FrozenClock } from '../support/clock.js';
import { TEST_API_KEY } from '../support/service.js';
import type { StoreKind } from '../support/stores.js';

export const auth = { authorization: `Bearer ${TEST_API_KEY}` };

/** What `openTestService` sets too: every limit and the detector off unless a test turns it on. */
const BASE_ENV: Record<string, string> = {
  MAILPROOF_API_KEY: TEST_API_KEY,
  MAILPROOF_PUBLIC_URL: 'http://mailproof.test',
  MAILPROOF_LOG_LEVEL: 'silent',
  MAILPROOF_RATE_LIMIT_CLIENT: 'off',
  MAILPROOF_RATE_LIMIT_ISSUE_CLIENT: 'off',
  MAILPROOF_RATE_LIMIT_EMAIL: 'off',
  MAILPROOF_RATE_LIMIT_VERIFY_FAILURES: 'off',
  MAILPROOF_AUTO_SUSPEND: 'off',
};

/**
 * Environment that puts a limit back to its default: `loadConfig` reads an empty value as
 * unset.
 */
export const DEFAULT = '';

/** One instance of the service: its own app, switch, limits and detector. */
export interface Instance {
  name: string;
  app: FastifyInstance;
  service: Service;
}

/** Several instances over one database (and one Redis when configured), sharing a clock. */
export interface Cluster {
  instances: Instance[];
  clock: FrozenClock;
  close(): Promise<void>;
}

/**
 * Opens `count` instances of the service on one fresh database of `kind`, with one data dir
 * (so one outbox key, API key and signing key, as `serve --workers` does) and one frozen
 * clock. They open one after the other, so the first creates the data dir's secrets.
 * `workers`: which instances run their outbox worker (default: the first only).
 */
export async function openCluster(options: {
  kind: StoreKind;
  strategy: StrategyName;
  env?: Record<string, string>;
  count?: number;
  workers?: readonly number[];
  suspendRefreshMs?: number;
}): Promise<Cluster> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mailproof-protection-'));
  const database = await options.kind.prepare();
  const clock = new FrozenClock(Date.now());
  const instances: Instance[] = [];
  const close = async () => {
    for (const { app, service } of instances.splice(0).reverse()) {
      await app.close();
      await service.close();
    }
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const config = loadConfig({
      ...BASE_ENV,
      MAILPROOF_DATA_DIR: dataDir,
      MAILPROOF_DATABASE_URL: database.databaseUrl,
      MAILPROOF_STRATEGY: options.strategy,
      ...options.env,
    });
    const workers = options.workers ?? [0];
    for (let i = 0; i < (options.count ?? 2); i++) {
      const service = await openService(config, {
        logger: createLogger(config.logLevel),
        clock,
        startWorker: workers.includes(i),
        ...(options.suspendRefreshMs ? { suspendRefreshMs: options.suspendRefreshMs } : {}),
      });
      const app = await buildApp(service).catch(async (error: unknown) => {
        await service.close();
        throw error;
      });
      instances.push({ name: String.fromCharCode(65 + i), app, service });
      await app.ready();
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { instances, clock, close };
}

/** A request from client address `ip` (the socket's address: no proxy trusted). */
export function call(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  options: { ip?: string; payload?: object; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    ...(options.ip ? { remoteAddress: options.ip } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.payload ? { payload: options.payload } : {}),
  });
}

/** A browser's form POST from `ip`. */
export function form(
  app: FastifyInstance,
  url: string,
  fields: Record<string, string>,
  ip?: string,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    ...(ip ? { remoteAddress: ip } : {}),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    payload: new URLSearchParams(fields).toString(),
  });
}

/** `POST /v1/verifications` with the API key, from `ip`. */
export function issue(app: FastifyInstance, email: string, ip?: string) {
  return call(app, 'POST', '/v1/verifications', { ip, headers: auth, payload: { email } });
}

/** `POST /v1/resend` from `ip`. */
export function resend(app: FastifyInstance, email: string, ip?: string) {
  return call(app, 'POST', '/v1/resend', { ip, payload: { email } });
}

/** `POST /v1/verify` from `ip`. */
export function verify(app: FastifyInstance, token: string, ip?: string) {
  return call(app, 'POST', '/v1/verify', { ip, payload: { token } });
}

/** `GET /v1/admin/state`. */
export async function adminState(app: FastifyInstance) {
  const res = await call(app, 'GET', '/v1/admin/state', { headers: auth });
  return res;
}

/** The `error.code` of a JSON error answer, or null. */
export function codeOf(res: LightMyRequestResponse): string | null {
  try {
    return (res.json() as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    return null;
  }
}

/**
 * Polls `check` every `everyMs` until it holds; returns the ms it took. Throws after
 * `withinMs`, with what the last check saw.
 */
export async function waitUntil(
  withinMs: number,
  check: () => Promise<boolean> | boolean,
  everyMs = 10,
): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return Math.round(performance.now() - start);
    if (performance.now() - start > withinMs) throw new Error(`not within ${withinMs} ms`);
    await sleep(everyMs);
  }
}

/** Times one call, ms. */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: Math.round(performance.now() - start) };
}

/** Keeps the event loop busy for `ms` (a busy-wait: no timer, no I/O runs meanwhile). */
export function blockEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

/**
 * A sample's value in Prometheus text: `name` with exactly `labels` (all of them, in any
 * order); undefined when there is no such sample.
 */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    const wanted = Object.entries(labels);
    if (
      wanted.length === Object.keys(found).length &&
      wanted.every(([key, value]) => found[key] === value)
    ) {
      return Number(match[3]);
    }
  }
  return undefined;
}

/** /metrics as text (asserting it answered 200). */
export async function scrape(app: FastifyInstance): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
  return res.body;
}

/**
 * A Redis logical database of one suite's own. The service's keys have a fixed prefix
 * (`mailproof:`, no setting changes it), so the suites that start services on Redis each
 * take a database number instead of a key prefix; `clean` deletes the service's keys in it.
 */
export function redisDatabase(db: number): {
  /** The URL of that database on the test Redis, or through `base` (a proxy to it). */
  url(base?: string): string;
  clean(): Promise<void>;
} {
  const url = (base = redisUrl) => `${base.replace(/\/\d*$/, '')}/${db}`;
  return {
    url,
    clean: async () => {
      const client = await connectRedis(url(), { connectTimeoutMs: 2000 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', 'mailproof:*', 'COUNT', 1000);
          if (keys.length > 0) await client.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
    },
  };
}

/** A client address no other test of the run uses (TEST-NET-2, RFC 5737, and a counter). */
let addressCounter = 0;
export function uniqueIp(): string {
  addressCounter += 1;
  return `198.51.${Math.floor(addressCounter / 250) % 250}.${(addressCounter % 250) + 1}`;
}
