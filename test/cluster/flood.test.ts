/**
 * The flood: one instance behind a (pretend) proxy gets thousands of forged tokens from
 * thousands of client addresses, 200 requests in flight, while real people sign up and
 * verify (sign-ups one after the other, each verification as soon as its mail is in). Rate
 * limits and the attack detector keep their defaults, so the flood trips the automatic
 * suspension (600 failed verifications a minute) and the people then meet the paused page:
 * that is the design, counted apart. A second variant turns the detector off to measure what
 * a person gets during the flood itself.
 *
 * The flood runs in a worker thread (support/flood-lanes.mjs), so that its callbacks do not
 * hold up the catcher and the people's requests on this thread. Memory is read from the
 * server's /metrics; a preload (support/gc-on-sigusr2.mjs) lets the test run a full GC there
 * to tell kept memory from uncollected garbage.
 *
 * Bounded: at least FLOOD_MIN forged requests, going on while the people are not done, never
 * more than FLOOD_MAX requests or FLOOD_MAX_MS. The figures are printed for the notes; run
 * this file alone for clean ones (`npx vitest run test/cluster/flood.test.ts`): it keeps
 * both cores of a small machine busy, and other suites running beside it skew its figures.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevCatcher } from '../../src/mail/dev-catcher.js';
import {
  metricValue,
  quantile,
  request,
  type ServeProcess,
  startServe,
  tokenOf,
} from './support/serve-process.js';

const FLOOD_MIN = 4000;
/** A safety net only: the time limit ends the flood first. */
const FLOOD_MAX = 50_000;
const FLOOD_MAX_MS = 8000;
const IN_FLIGHT = 200;
const LEGIT = 20;
const SETTLE_MS = 5000;
const MiB = 2 ** 20;
const API_KEY = 'flood-api-key-0123456789abcdef';
/** Preloaded into the server: SIGUSR2 runs a full GC (see the file). */
const GC_PRELOAD = pathToFileURL(
  fileURLToPath(new URL('./support/gc-on-sigusr2.mjs', import.meta.url)),
).href;
/** The flood generator, a worker thread. */
const FLOOD_LANES = new URL('./support/flood-lanes.mjs', import.meta.url);
const auth = { authorization: `Bearer ${API_KEY}` };

interface FloodReport {
  sent: number;
  ms: number;
  histogram: Map<string, number>;
  socketErrors: string[];
}

interface LegitReport {
  /** 'verified', '503 suspended', '503 overloaded', … one per attempt. */
  outcomes: string[];
  /** ms of each POST /v1/verify made while the flood ran. */
  verifyMs: number[];
  /** ms of each accepted POST /v1/verifications, and from its answer to the mail's arrival. */
  issueMs: number[];
  mailMs: number[];
  /** Attempts that ended while the flood was still running. */
  duringFlood: number;
}

const variants = [
  { strategy: 'opaque', autoSuspend: 'default' },
  { strategy: 'jwt', autoSuspend: 'default' },
  { strategy: 'opaque', autoSuspend: 'off' },
  { strategy: 'jwt', autoSuspend: 'off' },
] as const;

describe.each(variants)('flood: $strategy strategy, auto-suspend $autoSuspend', (variant) => {
  let catcher: DevCatcher;
  let dataDir: string;
  let server: ServeProcess;
  const label = `[${variant.strategy}, auto-suspend ${variant.autoSuspend}]`;
  // One keep-alive connection for the people (the flood has its own pool in its thread).
  const legitAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const legitClient = { 'x-forwarded-for': '192.168.7.7' };

  /** Resident memory and V8 heap in use, from the server's own /metrics. */
  const memory = async () => {
    const metrics = await request(legitAgent, `${server.url}/metrics`, 'GET');
    return {
      rss: metricValue(metrics.text, 'mailproof_process_resident_memory_bytes')!,
      heap: metricValue(metrics.text, 'mailproof_nodejs_heap_size_used_bytes')!,
    };
  };
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
  /** A full garbage collection in the server, then its memory. */
  const collected = async () => {
    const done = () => server.logs().filter((line) => line.msg === 'test gc done').length;
    const before = done();
    server.process.kill('SIGUSR2');
    await expect.poll(done, { timeout: 5000, interval: 20 }).toBeGreaterThan(before);
    return memory();
  };

  /**
   * Issues for `email` (one person signing up); once accepted, `mail` is the token from the
   * mail when it arrives. Refused: the outcome ("503 suspended", ...).
   */
  const issue = async (email: string) => {
    const startedAt = Date.now();
    const issued = await request(
      legitAgent,
      `${server.url}/v1/verifications`,
      'POST',
      { email },
      { ...auth, ...legitClient },
    );
    if (issued.status !== 202) return { refused: outcomeOf(issued) } as const;
    const issuedAt = Date.now();
    const mail = catcher
      .waitFor((m) => m.to.includes(email), 20_000)
      .then((m) => ({
        token: tokenOf(m.links[0]!),
        mailMs: Date.now() - issuedAt,
      }));
    mail.catch(() => {});
    return { refused: null, id: issued.body.id, issueMs: issuedAt - startedAt, mail } as const;
  };

  beforeAll(async () => {
    catcher = new DevCatcher({ capacity: 500 });
    await catcher.start();
    dataDir = await mkdtemp(join(tmpdir(), 'mailproof-flood-'));
    server = await startServe({
      env: {
        MAILPROOF_DATA_DIR: dataDir,
        MAILPROOF_STRATEGY: variant.strategy,
        MAILPROOF_API_KEY: API_KEY,
        MAILPROOF_SMTP_URL: catcher.smtpUrl,
        MAILPROOF_TRUST_PROXY: 'true',
        // Every request logged at info would measure pino rather than the service.
        MAILPROOF_LOG_LEVEL: 'warn',
        ...(variant.autoSuspend === 'off' ? { MAILPROOF_AUTO_SUSPEND: 'off' } : {}),
        NODE_OPTIONS: [process.env.NODE_OPTIONS, '--expose-gc', `--import=${GC_PRELOAD}`]
          .filter(Boolean)
          .join(' '),
      },
      readyBy: 'healthz',
    });
  });

  afterAll(async () => {
    const code = await server?.stop();
    legitAgent.destroy();
    await catcher?.stop();
    await rm(dataDir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('answers every forged token without a 5xx other than 503 and no dropped connection, while people verify', async () => {
    // Warm up, and get a real token: the jwt forgeries keep its header and claims.
    const warm = await issue(`warm-${variant.strategy}@example.com`);
    expect(warm.refused).toBeNull();
    const { token: real } = await warm.mail!;
    const [header, claims] = real.split('.');
    const before = await collected();

    // The flood runs in a worker thread (see flood-lanes.mjs); control[0]: people done,
    // control[1]: flood over.
    const control = new Int32Array(new SharedArrayBuffer(8));
    const floodDone = () => Atomics.load(control, 1) === 1;
    const flood = async (): Promise<FloodReport> => {
      const worker = new Worker(FLOOD_LANES, {
        workerData: {
          url: server.url,
          strategy: variant.strategy,
          header,
          claims,
          inFlight: IN_FLIGHT,
          min: FLOOD_MIN,
          max: FLOOD_MAX,
          maxMs: FLOOD_MAX_MS,
          control: control.buffer,
        },
      });
      const [report] = (await once(worker, 'message')) as [
        { sent: number; ms: number; histogram: [string, number][]; socketErrors: string[] },
      ];
      await worker.terminate();
      return { ...report, histogram: new Map(report.histogram) };
    };

    // The people: sign-ups one after the other, and verifications one after the other, each
    // as soon as its mail is in (so a slow mail does not hold up the next sign-up).
    const people = async (): Promise<LegitReport> => {
      const report: LegitReport = {
        outcomes: [],
        verifyMs: [],
        issueMs: [],
        mailMs: [],
        duringFlood: 0,
      };
      try {
        // Let the flood get going first.
        await sleep(200);
        const signUps: ReturnType<typeof issue>[] = [];
        let previous: Promise<unknown> = Promise.resolve();
        for (let n = 0; n < LEGIT; n++) {
          const next = previous.then(() => issue(`person-${variant.strategy}-${n}@example.com`));
          signUps.push(next);
          previous = next.catch(() => {});
        }
        for (const signUp of signUps) {
          const issued = await signUp;
          if (issued.refused !== null) {
            report.outcomes.push(`issue ${issued.refused}`);
            if (!floodDone()) report.duringFlood++;
            continue;
          }
          report.issueMs.push(issued.issueMs);
          const { token, mailMs } = await issued.mail;
          report.mailMs.push(mailMs);
          const verifyAt = Date.now();
          const verified = await request(
            legitAgent,
            `${server.url}/v1/verify`,
            'POST',
            { token },
            legitClient,
          );
          const during = !floodDone();
          if (during) report.duringFlood++;
          // Only what the flood slowed down counts for the latency figures.
          if (during) report.verifyMs.push(Date.now() - verifyAt);
          const outcome = outcomeOf(verified);
          report.outcomes.push(outcome);
          if (outcome === '200 verified') expect(verified.body.id).toBe(issued.id);
        }
      } finally {
        Atomics.store(control, 0, 1);
      }
      return report;
    };

    const [floodReport, legit] = await Promise.all([flood(), people()]);
    const after = await memory();
    await sleep(SETTLE_MS);
    const settled = await memory();
    const kept = await collected();
    const state = await request(legitAgent, `${server.url}/v1/admin/state`, 'GET', undefined, auth);

    // The figures.
    const histogram = [...floodReport.histogram.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([key, count]) => `${key}: ${count}`)
      .join(', ');
    const outcomes = new Map<string, number>();
    for (const outcome of legit.outcomes) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    const verifiedCount = outcomes.get('200 verified') ?? 0;
    const ms = (values: number[], q: number) =>
      values.length ? `${Math.round(quantile(values, q))} ms` : '-';
    console.log(
      [
        `${label} flood: ${floodReport.sent} forged POST /v1/verify from ${floodReport.sent} addresses, ${IN_FLIGHT} in flight, in ${floodReport.ms} ms = ${Math.round((floodReport.sent * 1000) / floodReport.ms)} req/s; socket errors: ${floodReport.socketErrors.length}`,
        `${label} flood statuses: ${histogram}`,
        `${label} people: ${verifiedCount}/${LEGIT} verified (${Math.round((verifiedCount * 100) / LEGIT)} %), ${legit.duringFlood} of the ${LEGIT} attempts ended during the flood; outcomes: ${[...outcomes.entries()].map(([k, v]) => `${k}: ${v}`).join(', ')}`,
        `${label} people, during the flood: POST /v1/verify (${legit.verifyMs.length}) p50 ${ms(legit.verifyMs, 0.5)}, p99 ${ms(legit.verifyMs, 0.99)}, max ${ms(legit.verifyMs, 1)}; every accepted sign-up: POST /v1/verifications (${legit.issueMs.length}) p50 ${ms(legit.issueMs, 0.5)}, p99 ${ms(legit.issueMs, 0.99)}; mail arrival p50 ${ms(legit.mailMs, 0.5)}, p99 ${ms(legit.mailMs, 0.99)}`,
        `${label} memory (RSS / heap used): before ${mib(before.rss)} / ${mib(before.heap)}, right after ${mib(after.rss)} / ${mib(after.heap)}, ${SETTLE_MS / 1000} s later ${mib(settled.rss)} / ${mib(settled.heap)}, after a full GC ${mib(kept.rss)} / ${mib(kept.heap)} (${Math.round((kept.heap - before.heap) / floodReport.sent)} bytes kept per forged request); suspended at the end: ${String(state.body.suspended)} (auto: ${String(state.body.auto)})`,
      ].join('\n'),
    );

    // The server logged no error (warnings, such as the automatic suspension, are expected).
    const warnings = new Map<string, number>();
    for (const line of server.logs().filter((l) => (l.level ?? 0) >= 40)) {
      const key = `${line.level} ${String(line.msg).slice(0, 80)}`;
      warnings.set(key, (warnings.get(key) ?? 0) + 1);
    }
    console.log(`${label} server warnings/errors: ${JSON.stringify([...warnings])}`);
    expect(server.logs().filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
    expect(server.stderr()).toBe('');
    expect(floodReport.socketErrors, floodReport.socketErrors.slice(0, 5).join('\n')).toEqual([]);
    expect(floodReport.sent).toBeGreaterThanOrEqual(FLOOD_MIN);
    for (const key of floodReport.histogram.keys()) {
      const status = Number(key.split(' ')[0]);
      expect(status >= 500 && status !== 503, key).toBe(false);
    }
    // Every person was verified, or shown the 503 page (paused, busy) - never an error.
    for (const outcome of legit.outcomes) {
      expect(outcome === '200 verified' || /^(issue )?503 /.test(outcome), outcome).toBe(true);
    }
    if (variant.autoSuspend === 'default') {
      // 600 failures a minute trips it within the first seconds of the flood.
      expect(state.body).toMatchObject({ suspended: true, auto: true });
      expect(floodReport.histogram.get('503 suspended') ?? 0).toBeGreaterThan(0);
    } else {
      expect(state.body).toMatchObject({ suspended: false });
      // Without the detector the people are served through the flood.
      // (All 20 were, in every run here; the floor leaves room for 503 overloaded on a
      // machine busy with other suites.)
      expect(verifiedCount).toBeGreaterThanOrEqual(LEGIT / 2);
      expect(legit.duringFlood).toBeGreaterThanOrEqual(LEGIT / 4);
    }
    // Memory. RSS is a high-water mark: V8 keeps the pages it grew into, even after a full GC
    // (seen here: +40 to +115 MiB for 4 000 to 31 000 forged requests, not coming down), so
    // it only has to stay clear of a runaway. The heap after a full GC is what is really
    // kept: the in-memory rate-limit state of each client address (about 1.1 KiB each, kept
    // for the limit's window: 60 s per-client, 600 s failed-verification).
    expect(settled.rss).toBeLessThanOrEqual(before.rss + 150 * MiB);
    expect(kept.heap).toBeLessThanOrEqual(before.heap + 16 * MiB + floodReport.sent * 2048);
  }, 45_000);
});

/** "400 invalid_token", "200 verified", "503 suspended", … */
function outcomeOf(answer: { status: number; body: Record<string, unknown> }): string {
  const code =
    (answer.body.error as { code?: string } | undefined)?.code ?? answer.body.status ?? '';
  return `${answer.status} ${String(code)}`.trim();
}
