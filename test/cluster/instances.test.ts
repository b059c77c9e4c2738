/**
 * Three independent instances (processes with their own data dirs) behind an imaginary load
 * balancer: they share the API key, the outbox key, the jwt signing key, ONE PostgreSQL
 * database and ONE Redis, and mail one SMTP catcher. The test spreads its requests over them
 * itself. What must hold across instances: a token verifies once, a suspension reaches every
 * instance within its refresh interval, the per-email limit is one limit, and the shared
 * outbox sends each mail once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../src/keys/load-keys.js';
import { DevCatcher } from '../../src/mail/dev-catcher.js';
import { mapLimited } from '../cli/run-cli.js';
import { type PreparedDatabase, storeKinds } from '../support/stores.js';
import {
  type Answer,
  metricValue,
  request,
  type ServeProcess,
  startServe,
  tokenOf,
} from './support/serve-process.js';

const postgres = storeKinds.find((kind) => kind.name === 'postgres');
/** A Redis database of its own: FLUSHDB here disturbs no other test. */
const REDIS_URL = (() => {
  const url = new URL(process.env.MAILPROOF_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  url.pathname = '/5';
  return url.toString();
})();
const INSTANCES = 3;
/** The public URL every instance shares, as behind a load balancer (and the jwt issuer). */
const PUBLIC_URL = 'http://mailproof.cluster.test';

async function flushRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  await redis.flushdb();
  await redis.quit();
}

describe.skipIf(!postgres).each(['opaque', 'jwt'] as const)(
  '3 instances, one PostgreSQL and one Redis, %s strategy',
  (strategy) => {
    let catcher: DevCatcher;
    let database: PreparedDatabase;
    let instances: ServeProcess[] = [];
    const dataDirs: string[] = [];
    const apiKey = randomBytes(24).toString('base64url');
    const auth = { authorization: `Bearer ${apiKey}` };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    /** Token of a verification that (a) verifies: afterwards it answers already_verified. */
    let usedToken = '';

    /** A call to instance `i` (0-based), from client address `ip` (trust proxy is on). */
    const call = (i: number, method: string, path: string, body?: unknown, ip = '10.0.0.1') =>
      request(agent, `${instances[i % INSTANCES]!.url}${path}`, method, body, {
        ...auth,
        'x-forwarded-for': ip,
      });

    beforeAll(async () => {
      await flushRedis();
      catcher = new DevCatcher({ capacity: 1000 });
      await catcher.start();
      database = await postgres!.prepare();
      const env: Record<string, string> = {
        MAILPROOF_DATABASE_URL: database.databaseUrl,
        MAILPROOF_REDIS_URL: REDIS_URL,
        MAILPROOF_SMTP_URL: catcher.smtpUrl,
        MAILPROOF_STRATEGY: strategy,
        MAILPROOF_PUBLIC_URL: PUBLIC_URL,
        MAILPROOF_API_KEY: apiKey,
        MAILPROOF_OUTBOX_KEY: randomBytes(32).toString('base64url'),
        MAILPROOF_RATE_LIMIT_EMAIL: '5/3600',
        MAILPROOF_TRUST_PROXY: 'true',
      };
      if (strategy === 'jwt') {
        const key = await generateKey(Date.now());
        env.MAILPROOF_SIGNING_KEYS = JSON.stringify({ keys: [key.jwk] });
      }
      for (let i = 0; i < INSTANCES; i++) {
        dataDirs.push(await mkdtemp(join(tmpdir(), `mailproof-instance-${i + 1}-`)));
      }
      const startedAt = Date.now();
      // All at once on the fresh database: they wait for each other's migration on a lock.
      instances = await Promise.all(
        dataDirs.map((dataDir) => startServe({ env: { ...env, MAILPROOF_DATA_DIR: dataDir } })),
      );
      console.log(`[${strategy}] ${INSTANCES} instances started in ${Date.now() - startedAt} ms`);
    });

    afterAll(async () => {
      const codes = await Promise.all(instances.map((instance) => instance.stop()));
      const logs = instances.map((instance) => instance.logs());
      instances = [];
      agent.destroy();
      await catcher?.stop();
      await database?.drop();
      for (const dataDir of dataDirs) await rm(dataDir, { recursive: true, force: true });
      await flushRedis();
      expect(codes).toEqual(Array(INSTANCES).fill(0));
      // Nothing went wrong on the way: no error logged by any instance.
      const errors = logs.flatMap((lines) => lines.filter((line) => (line.level ?? 0) >= 50));
      expect(errors).toEqual([]);
    });

    it('(a) a token issued on instance 1 and verified 30 times at once over all 3 is verified once', async () => {
      const email = `once-${strategy}@example.com`;
      const issued = await call(0, 'POST', '/v1/verifications', { email });
      expect(issued.status, issued.text).toBe(202);
      const mail = await catcher.waitFor((m) => m.to.includes(email), 10_000);
      usedToken = tokenOf(mail.links[0]!);

      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, n) =>
          call(n, 'POST', '/v1/verify', { token: usedToken }, '10.1.0.1'),
        ),
      );
      expect(outcomes.map((o) => o.status)).toEqual(Array(30).fill(200));
      const statuses = outcomes.map((o) => o.body.status);
      expect(statuses.filter((s) => s === 'verified')).toHaveLength(1);
      expect(statuses.filter((s) => s === 'already_verified')).toHaveLength(29);
      expect(new Set(outcomes.map((o) => o.body.id))).toEqual(new Set([issued.body.id]));
      const winner = statuses.indexOf('verified');
      console.log(
        `[${strategy}] 30 concurrent verifies over ${INSTANCES} instances: 1 verified (on i${(winner % INSTANCES) + 1}), 29 already_verified`,
      );
    });

    it('(b) a suspension on instance 1 reaches every instance within 2 s, and so does the resume', async () => {
      /** Polls instance i every 50 ms until `done`; ms from `since`, or null after 3 s. */
      const until = async (i: number, since: number, done: (a: Answer) => boolean) => {
        for (let poll = 0; poll < 60; poll++) {
          const answer = await call(
            i,
            'POST',
            '/v1/verify',
            { token: usedToken },
            `10.2.${poll}.${i}`,
          );
          if (done(answer)) return Date.now() - since;
          await sleep(Math.max(0, since + (poll + 1) * 50 - Date.now()));
        }
        return null;
      };
      const isSuspended = (a: Answer) =>
        a.status === 503 &&
        (a.body.error as { code?: string } | undefined)?.code === 'suspended' &&
        a.headers['retry-after'] !== undefined;
      const isOpen = (a: Answer) => a.status === 200 && a.body.status === 'already_verified';
      const figures = (ms: (number | null)[]) =>
        ms.map((m, i) => `i${i + 1} ${m === null ? 'never' : `${m} ms`}`).join(', ');

      const suspendedAt = Date.now();
      const suspended = await call(0, 'POST', '/v1/admin/suspend', { reason: 'cluster test' });
      expect(suspended.status, suspended.text).toBe(200);
      const toSuspend = await Promise.all(
        instances.map((_, i) => until(i, suspendedAt, isSuspended)),
      );
      console.log(`[${strategy}] suspend honoured: ${figures(toSuspend)}`);

      const state = await call(2, 'GET', '/v1/admin/state');
      expect(state.body).toMatchObject({ suspended: true, reason: 'cluster test', auto: false });

      const resumedAt = Date.now();
      const resumed = await call(0, 'POST', '/v1/admin/resume');
      expect(resumed.status, resumed.text).toBe(200);
      const toResume = await Promise.all(instances.map((_, i) => until(i, resumedAt, isOpen)));
      console.log(`[${strategy}] resume honoured: ${figures(toResume)}`);

      for (const ms of [...toSuspend, ...toResume]) {
        expect(ms).not.toBeNull();
        expect(ms!).toBeLessThanOrEqual(2000);
      }
    });

    it('(c) the per-email limit (5/hour) is one limit across instances: 12 requests give 5 x 202', async () => {
      const email = `limit-${strategy}@example.com`;
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, n) => call(n, 'POST', '/v1/verifications', { email })),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 202)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(7);
      for (const answer of answers.filter((a) => a.status === 429)) {
        expect(answer.body.error).toMatchObject({ code: 'rate_limited' });
        expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      }
      const per = instances.map(
        (_, i) => answers.filter((a, n) => n % INSTANCES === i && a.status === 202).length,
      );
      console.log(
        `[${strategy}] per-email limit across instances: 12 requests -> ${statuses.filter((s) => s === 202).length} x 202 (i1 ${per[0]}, i2 ${per[1]}, i3 ${per[2]}), ${statuses.filter((s) => s === 429).length} x 429`,
      );
    });

    it('(d) the shared outbox mails each of 60 verifications exactly once', async () => {
      const emails = Array.from({ length: 60 }, (_, n) => `outbox-${strategy}-${n}@example.com`);
      const startedAt = Date.now();
      const issued = await mapLimited(emails, 12, (email, n) =>
        call(n, 'POST', '/v1/verifications', { email }),
      );
      expect(issued.map((a) => a.status)).toEqual(Array(60).fill(202));
      const idOf = new Map(emails.map((email, n) => [email, issued[n]!.body.id as string]));

      const mine = () => catcher.list().filter((mail) => mail.to.some((to) => idOf.has(to)));
      const deadline = Date.now() + 20_000;
      while (mine().length < 60 && Date.now() < deadline) await sleep(50);
      const deliveredMs = Date.now() - startedAt;
      // Time for a duplicate, had any instance sent one, to arrive too.
      await sleep(1500);
      const mails = mine();
      expect(mails).toHaveLength(60);
      for (const email of emails) {
        expect(
          mails.filter((mail) => mail.to.includes(email)),
          email,
        ).toHaveLength(1);
      }
      const links = mails.map((mail) => mail.links[0]!);
      expect(new Set(links).size).toBe(60);

      // Each mailed link is its own verification's: verifying it returns that id.
      const verified = await mapLimited(mails, 12, (mail, n) =>
        call(n, 'POST', '/v1/verify', { token: tokenOf(mail.links[0]!) }, `10.4.0.${n}`),
      );
      for (const [n, answer] of verified.entries()) {
        expect(answer.status, answer.text).toBe(200);
        expect(answer.body).toMatchObject({ status: 'verified', id: idOf.get(mails[n]!.to[0]!) });
      }
      // Who sent them: every instance's outbox worker takes its share of the shared outbox.
      const sent = await Promise.all(
        instances.map(async (_, i) =>
          metricValue((await call(i, 'GET', '/metrics')).text, 'mailproof_mails_sent_total'),
        ),
      );
      expect(sent.reduce((sum: number, n) => sum + (n ?? 0), 0)).toBe(1 + 5 + 60);
      console.log(
        `[${strategy}] outbox over ${INSTANCES} instances: 60 issued, 60 mails (no duplicate, 60 distinct links, each verifying its own id), all delivered ${deliveredMs} ms after the first issue; mails sent per instance over the whole run: ${sent.map((n, i) => `i${i + 1} ${n}`).join(', ')}`,
      );
    });
  },
);
