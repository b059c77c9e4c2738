/**
 * The HTTP suite: autocannon against real servers, each in a child process of its own
 * (bench/server.ts), so that "server CPU per request" is the server's CPU time (user +
 * system, every thread) over the run divided by the responses it gave.
 *
 * Tokens for first-use runs are issued beforehand by a twin of the service in this process
 * (the same configuration, database, keys and outbox key, built by the same `openService`),
 * while the server's outbox worker is paused; their mails are marked sent, so the server
 * neither delivers them nor spends a cycle on them during the run.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config.js';
import type { VerificationMailPayload } from '../src/core/mail-payload.js';
import type { OutboxDepth } from '../src/core/ports.js';
import { SealedBox } from '../src/core/sealed-box.js';
import type { StrategyName } from '../src/core/strategies/strategy.js';
import { createLogger } from '../src/service/logger.js';
import { openService, type Service } from '../src/service/service.js';
import { ServerChild } from './child.js';
import type { ScratchDatabase, StoreName } from './databases.js';
import { fire, type LoadResult } from './load.js';
import { forge } from './micro.js';
import type { ServerStats } from './server.js';

/** How long and how hard. */
export interface HttpSettings {
  connections: number;
  /** Seconds of each duration-bound run. */
  durationS: number;
  /** Seconds of each unmeasured warm-up run. */
  warmS: number;
  /** Requests of a first-use run (each with its own fresh token), by store. */
  firstUse: Record<StoreName, number>;
  /** Idle time before the pre-load and after-load RSS readings. */
  settleMs: number;
  /** Longest wait for the outbox to drain after an issue run. */
  drainCapMs: number;
  flood: {
    /** Legitimate verifications per second. */
    rate: number;
    connections: number;
    /** Seconds of legitimate traffic alone, then under the flood. */
    quietS: number;
    floodS: number;
  };
  /** Environment for every server, over this process's (rate-limit switches go here). */
  serverEnv: NodeJS.ProcessEnv;
  /** Write CPU profiles of the mailproof servers here. */
  cpuProfDir?: string;
}

/** The HTTP scenarios. */
export type ScenarioName =
  | 'hello GET'
  | 'hello POST'
  | 'floor: refusal'
  | 'floor: Ed25519 verify'
  | 'floor: SQLite write'
  | 'floor: PostgreSQL write'
  | 'issue'
  | 'verify first use'
  | 'verify replay'
  | 'verify forged';

/** One measured run. */
export interface ScenarioResult {
  /** `hello` or e.g. `jwt + SQLite`. */
  server: string;
  strategy: StrategyName | null;
  store: StoreName | null;
  scenario: ScenarioName;
  load: LoadResult;
  /** Server CPU µs over the run per response. */
  cpuUsPerReq: number;
  /** The kernel's share of that CPU (system time / user + system). */
  systemShare: number;
  /** Highest server RSS during the run, MB. */
  peakRssMb: number;
  /** Whether every answer was the one this scenario expects (e.g. 400 for forged). */
  ok: boolean;
  expected: string;
  /** Issue runs: the mail deliveries the run caused, measured until the outbox drained. */
  delivery?: IssueDelivery;
}

/** What an issue run's mails cost the server beyond the HTTP calls. */
export interface IssueDelivery {
  /** Mails still queued when the load stopped. */
  queuedAfterRun: number;
  /** Seconds it took the worker to deliver those. */
  drainS: number;
  drained: boolean;
  /** Server CPU µs per mail delivered after the load stopped (render + SMTP client). */
  cpuUsPerMail: number;
  /** Server CPU µs per issued verification, run and drain together: everything. */
  totalCpuUsPerIssue: number;
  /** The run's CPU less the deliveries made during it, per request: the HTTP call alone. */
  requestPathCpuUs: number;
}

/** RSS of one server over its life, MB. */
export interface ServerMemory {
  server: string;
  preLoadMb: number;
  preLoadHeapUsedMb: number;
  peakMb: number;
  /** V8 heap (total reserved, used) and external memory when RSS peaked. */
  peakHeapTotalMb: number;
  peakHeapUsedMb: number;
  peakExternalMb: number;
  afterMb: number;
  /** After a forced collection: what the heap could give back (diagnostic). */
  afterGcMb: number;
  /** Heap in use after that collection: live data, not garbage. */
  afterGcHeapUsedMb: number;
}

/** Legitimate verifications while forged tokens arrive as fast as the server takes them. */
export interface FloodResult {
  server: string;
  strategy: StrategyName;
  store: StoreName;
  rate: number;
  /** The legitimate traffic alone, for comparison. */
  quiet: LoadResult;
  legit: LoadResult;
  forged: LoadResult;
  /** Legitimate requests answered `verified`, of those answered or timed out under the flood. */
  successRate: number;
}

/** Everything the HTTP suite measured. */
export interface HttpResults {
  scenarios: ScenarioResult[];
  memory: ServerMemory[];
  floods: FloodResult[];
}

/** Secrets shared by every server of a run and its twin. */
export interface Secrets {
  apiKey: string;
  outboxKey: string;
  signingKeys: string;
}

const MB = 1024 * 1024;
const PUBLIC_URL = 'http://mailproof.bench';

/** Fresh keys for one run: API key, outbox key, an Ed25519 signing key (PEM). */
export function newSecrets(): Secrets {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    apiKey: randomBytes(24).toString('base64url'),
    outboxKey: randomBytes(32).toString('base64url'),
    signingKeys: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Limits no bench reaches: the checks still run, and cost what they cost in production. */
const NEVER_TRIPS = '1000000000/60';

/**
 * What the bench sets for every server unless `--server-env` says otherwise: rate limits
 * and the attack detector raised out of reach (one client sending thousands of requests a
 * second is the bench, not an attack, and a 429 measures nothing), and no shared state:
 * `mailproof bench` must never feed a user's production Redis counters or suspend switch.
 */
export const PROTECTION_ENV: NodeJS.ProcessEnv = {
  MAILPROOF_RATE_LIMIT_CLIENT: NEVER_TRIPS,
  MAILPROOF_RATE_LIMIT_ISSUE_CLIENT: NEVER_TRIPS,
  MAILPROOF_RATE_LIMIT_EMAIL: NEVER_TRIPS,
  MAILPROOF_RATE_LIMIT_VERIFY_FAILURES: NEVER_TRIPS,
  MAILPROOF_AUTO_SUSPEND: '1000000000,1000000000,1000000000',
  MAILPROOF_REDIS_URL: '',
};

/** The service's environment: the caller's, with what the bench must decide on top. */
export function serviceEnv(
  settings: Pick<HttpSettings, 'serverEnv'>,
  secrets: Secrets,
  options: { dataDir: string; databaseUrl: string; strategy: StrategyName; smtpUrl: string },
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...PROTECTION_ENV,
    ...settings.serverEnv,
    PORT: '0',
    HOST: '127.0.0.1',
    MAILPROOF_DATA_DIR: options.dataDir,
    MAILPROOF_DATABASE_URL: options.databaseUrl,
    MAILPROOF_STRATEGY: options.strategy,
    MAILPROOF_API_KEY: secrets.apiKey,
    MAILPROOF_OUTBOX_KEY: secrets.outboxKey,
    MAILPROOF_SIGNING_KEYS: secrets.signingKeys,
    MAILPROOF_SIGNING_KEYS_FILE: '',
    MAILPROOF_SMTP_URL: options.smtpUrl,
    MAILPROOF_PUBLIC_URL: PUBLIC_URL,
    MAILPROOF_LOG_LEVEL: 'silent',
  };
}

/**
 * The service built in this process from the server's own environment: it issues tokens
 * for first-use runs through the real lifecycle and reads them back from the sealed outbox.
 */
export class TokenIssuer {
  readonly #service: Service;
  readonly #sealer: SealedBox;
  readonly #run = randomBytes(4).toString('hex');
  #count = 0;

  private constructor(service: Service, sealer: SealedBox) {
    this.#service = service;
    this.#sealer = sealer;
  }

  static async open(env: NodeJS.ProcessEnv): Promise<TokenIssuer> {
    const config = loadConfig(env);
    const service = await openService(config, {
      logger: createLogger('silent'),
      startWorker: false,
      suspendRefreshMs: 3_600_000,
    });
    return new TokenIssuer(service, new SealedBox(Buffer.from(config.outboxKey!, 'base64url')));
  }

  /** `count` fresh tokens, issued `lanes` at a time; their mails are marked delivered. */
  async issue(count: number, lanes = 8): Promise<string[]> {
    const { verifications, store } = this.#service;
    const tokens: string[] = [];
    const lane = async () => {
      while (tokens.length < count) {
        const email = `t${this.#count++}.${this.#run}@example.com`;
        const { id } = await verifications.issue({ email });
        const [mail] = await store.listMailsFor(id);
        tokens.push(this.#sealer.open<VerificationMailPayload>(mail!.payload!).token);
        await store.markMailSent(mail!.id, Date.now());
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
    return tokens.slice(0, count);
  }

  close(): Promise<void> {
    return this.#service.close();
  }
}

/** Request bodies that walk through `tokens` once (then round again: replays). */
export function tokenBodies(tokens: string[]): () => string {
  const bodies = tokens.map((token) => JSON.stringify({ token }));
  let next = 0;
  return () => bodies[next++ % bodies.length]!;
}

const mb = (bytes: number) => bytes / MB;

/** Runs `load` between two readings of the server; CPU per response and peak RSS. */
async function measured(
  server: ServerChild,
  load: () => Promise<LoadResult>,
): Promise<{ load: LoadResult; before: ServerStats; after: ServerStats }> {
  const before = await server.call<ServerStats>('resetPeak');
  const result = await load();
  const after = await server.stats();
  return { load: result, before, after };
}

function scenario(
  base: Pick<ScenarioResult, 'server' | 'strategy' | 'store' | 'scenario' | 'expected'>,
  run: { load: LoadResult; before: ServerStats; after: ServerStats },
  ok: (load: LoadResult) => boolean,
): ScenarioResult {
  return {
    ...base,
    load: run.load,
    cpuUsPerReq: (run.after.cpuUs - run.before.cpuUs) / Math.max(1, run.load.requests),
    systemShare:
      (run.after.systemUs - run.before.systemUs) / Math.max(1, run.after.cpuUs - run.before.cpuUs),
    peakRssMb: mb(run.after.peakRss),
    ok: run.load.requests > 0 && run.load.errors === 0 && ok(run.load),
  };
}

const only = (status: string) => (load: LoadResult) =>
  Object.keys(load.statuses).every((code) => code === status);

/** Memory over the server's life: pre-load, peak (with its breakdown), after, after GC. */
async function memory(
  server: ServerChild,
  name: string,
  preLoad: ServerStats,
  settleMs: number,
): Promise<ServerMemory> {
  await sleep(settleMs);
  const after = await server.stats();
  const afterGc = await server.call<ServerStats>('gc');
  return {
    server: name,
    preLoadMb: mb(preLoad.rss),
    preLoadHeapUsedMb: mb(preLoad.heapUsed),
    peakMb: mb(after.lifePeak.rss),
    peakHeapTotalMb: mb(after.lifePeak.heapTotal),
    peakHeapUsedMb: mb(after.lifePeak.heapUsed),
    peakExternalMb: mb(after.lifePeak.external),
    afterMb: mb(after.rss),
    afterGcMb: mb(afterGc.rss),
    afterGcHeapUsedMb: mb(afterGc.heapUsed),
  };
}

/**
 * The ceiling, bare Fastify GET and POST with a token-sized JSON body, and the floors: bare
 * Fastify doing only what a scenario cannot avoid (see bench/server.ts).
 */
async function benchHello(
  settings: HttpSettings,
  results: HttpResults,
  log: (l: string) => void,
  pgUrl: string | null,
) {
  log('http: hello');
  const server = await ServerChild.start({
    kind: 'hello',
    env: { ...process.env, BENCH_FLOOR_PG_URL: pgUrl ?? '' },
  });
  try {
    await sleep(settings.settleMs);
    const preLoad = await server.stats();
    const body = JSON.stringify({ token: randomBytes(32).toString('base64url') });
    const base = { server: 'hello', strategy: null, store: null } as const;
    const runs = [
      { scenario: 'hello GET', method: 'GET', path: '/', expected: '200' },
      { scenario: 'hello POST', method: 'POST', path: '/', expected: '200' },
      { scenario: 'floor: refusal', method: 'POST', path: '/floor/refusal', expected: '400' },
      {
        scenario: 'floor: Ed25519 verify',
        method: 'POST',
        path: '/floor/ed25519',
        expected: '400',
      },
      {
        scenario: 'floor: SQLite write',
        method: 'POST',
        path: '/floor/sqlite-write',
        expected: '200',
      },
      ...(pgUrl
        ? ([
            {
              scenario: 'floor: PostgreSQL write',
              method: 'POST',
              path: '/floor/pg-write',
              expected: '200',
            },
          ] as const)
        : []),
    ] as const;
    for (const run of runs) {
      const options = {
        url: server.url,
        method: run.method,
        path: run.path,
        connections: settings.connections,
        ...(run.method === 'POST' ? { body } : {}),
      };
      await fire({ ...options, durationS: settings.warmS });
      const result = await measured(server, () =>
        fire({ ...options, durationS: settings.durationS }),
      );
      results.scenarios.push(
        scenario(
          { ...base, scenario: run.scenario, expected: run.expected },
          result,
          only(run.expected),
        ),
      );
    }
    results.memory.push(await memory(server, 'hello', preLoad, settings.settleMs));
  } finally {
    await server.stop();
  }
}

/** Waits for the server's outbox to empty (or the cap); seconds waited, and whether it did. */
export async function drain(
  server: ServerChild,
  capMs: number,
): Promise<{ s: number; done: boolean }> {
  const start = Date.now();
  for (;;) {
    const depth = await server.call<OutboxDepth>('outboxDepth');
    if (depth.pending === 0) return { s: (Date.now() - start) / 1000, done: true };
    if (Date.now() - start > capMs) return { s: (Date.now() - start) / 1000, done: false };
    await sleep(200);
  }
}

/**
 * One strategy on one database: issue, verify first use, replay, forged, and (when
 * `flood`) the flood, all against one server process whose memory is followed throughout.
 */
async function benchService(
  settings: HttpSettings,
  results: HttpResults,
  options: {
    database: ScratchDatabase;
    strategy: StrategyName;
    smtpUrl: string;
    secrets: Secrets;
    flood: boolean;
    log: (line: string) => void;
  },
): Promise<void> {
  const { database, strategy, log } = options;
  const name = `${strategy} + ${database.store}`;
  log(`http: ${name}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'mailproof-bench-data-'));
  const env = serviceEnv(settings, options.secrets, {
    dataDir,
    databaseUrl: database.url,
    strategy,
    smtpUrl: options.smtpUrl,
  });
  const server = await ServerChild.start({
    kind: 'mailproof',
    env,
    ...(settings.cpuProfDir ? { cpuProfDir: settings.cpuProfDir } : {}),
  });
  const issuer = await TokenIssuer.open(env);
  try {
    await sleep(settings.settleMs);
    const preLoad = await server.stats();
    const base = { server: name, strategy, store: database.store } as const;
    const post = (path: string) => ({
      url: server.url,
      method: 'POST' as const,
      path,
      connections: settings.connections,
    });
    const auth = { authorization: `Bearer ${options.secrets.apiKey}` };
    let mailNo = 0;
    const run = randomBytes(4).toString('hex');
    const issueBodies = () => JSON.stringify({ email: `i${mailNo++}.${run}@example.com` });

    log(`http: ${name}: warm-up`);
    // Warm-up: every route measured below, so that the JIT has seen them all.
    const warmTokens = await preIssue(server, issuer, 200);
    await fire({
      ...post('/v1/verifications'),
      headers: auth,
      nextBody: issueBodies,
      durationS: settings.warmS,
    });
    await fire({
      ...post('/v1/verify'),
      nextBody: tokenBodies(warmTokens),
      durationS: settings.warmS,
    });
    await drain(server, settings.drainCapMs);

    log(`http: ${name}: issue`);
    // Issue: the run, then the deliveries it queued, each measured.
    const issue = await measured(server, () =>
      fire({
        ...post('/v1/verifications'),
        headers: auth,
        nextBody: issueBodies,
        durationS: settings.durationS,
      }),
    );
    const queued = (await server.call<OutboxDepth>('outboxDepth')).pending;
    const drained = await drain(server, settings.drainCapMs);
    const afterDrain = await server.stats();
    const issued = issue.load.statuses['202'] ?? 0;
    const runCpu = issue.after.cpuUs - issue.before.cpuUs;
    // Priced only from a drain worth the name; a run that issued nothing prices nothing.
    const cpuUsPerMail = queued > 0 ? (afterDrain.cpuUs - issue.after.cpuUs) / queued : Number.NaN;
    const issueResult = scenario(
      { ...base, scenario: 'issue', expected: '202' },
      issue,
      only('202'),
    );
    issueResult.delivery = {
      queuedAfterRun: queued,
      drainS: drained.s,
      drained: drained.done,
      cpuUsPerMail,
      totalCpuUsPerIssue:
        issued > 0 ? (afterDrain.cpuUs - issue.before.cpuUs) / issued : Number.NaN,
      // The run's CPU less the deliveries the worker made during it, priced as in the drain.
      requestPathCpuUs:
        issued > 0 ? (runCpu - cpuUsPerMail * Math.max(0, issued - queued)) / issued : Number.NaN,
    };
    results.scenarios.push(issueResult);

    log(`http: ${name}: pre-issue, first use`);
    // First use: every request carries a token never presented before.
    const amount = settings.firstUse[database.store];
    const tokens = await preIssue(server, issuer, amount + 2 * settings.connections);
    const first = await measured(server, () =>
      fire({ ...post('/v1/verify'), nextBody: tokenBodies(tokens), amount }),
    );
    results.scenarios.push(
      scenario(
        { ...base, scenario: 'verify first use', expected: '200 verified' },
        first,
        (l) => only('200')(l) && l.verified === l.requests,
      ),
    );

    log(`http: ${name}: replay`);
    // Replay: the same tokens again, now all verified.
    const replay = await measured(server, () =>
      fire({
        ...post('/v1/verify'),
        nextBody: tokenBodies(tokens.slice(0, amount)),
        durationS: settings.durationS,
      }),
    );
    results.scenarios.push(
      scenario(
        { ...base, scenario: 'verify replay', expected: '200 already_verified' },
        replay,
        // A token autocannon built but never sent in the first-use run may verify here.
        (l) =>
          only('200')(l) &&
          l.alreadyVerified + l.verified === l.requests &&
          l.alreadyVerified >= 0.99 * l.requests,
      ),
    );

    log(`http: ${name}: forged`);
    // Forged: well-formed, never issued (for jwt: a good header and claims, a bad signature).
    const forgedBody = JSON.stringify({ token: forge(strategy, tokens[0]!) });
    const forged = await measured(server, () =>
      fire({ ...post('/v1/verify'), body: forgedBody, durationS: settings.durationS }),
    );
    results.scenarios.push(
      scenario({ ...base, scenario: 'verify forged', expected: '400' }, forged, only('400')),
    );

    if (options.flood) {
      const { rate, connections, quietS, floodS } = settings.flood;
      log(`http: ${name}: flood`);
      const legitTokens = await preIssue(
        server,
        issuer,
        Math.ceil(rate * (quietS + floodS) * 1.5) + 4 * connections,
      );
      const half = Math.floor(legitTokens.length / 2);
      const legit = (slice: string[], durationS: number) =>
        fire({
          ...post('/v1/verify'),
          connections,
          overallRate: rate,
          nextBody: tokenBodies(slice),
          durationS,
        });
      await server.call('resetPeak');
      const quiet = await legit(legitTokens.slice(0, half), quietS);
      const [underFlood, flood] = await Promise.all([
        legit(legitTokens.slice(half), floodS),
        fire({ ...post('/v1/verify'), body: forgedBody, durationS: floodS, offThread: true }),
      ]);
      results.floods.push({
        server: name,
        strategy,
        store: database.store,
        rate,
        quiet,
        legit: underFlood,
        forged: flood,
        successRate: underFlood.verified / Math.max(1, underFlood.sent),
      });
    }

    log(`http: ${name}: settle`);
    results.memory.push(await memory(server, name, preLoad, settings.settleMs));
  } finally {
    await issuer.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Issues tokens with the server's worker paused, so it does not deliver them. */
export async function preIssue(
  server: ServerChild,
  issuer: TokenIssuer,
  count: number,
): Promise<string[]> {
  await server.call('pauseWorker');
  try {
    return await issuer.issue(count);
  } finally {
    await server.call('resumeWorker');
  }
}

/**
 * The whole HTTP suite: the hello-world ceiling, then every strategy on every database,
 * with the flood on the first database (the one a deployment would use: SQLite in the
 * project's run, the user's own in `mailproof bench`).
 */
export async function runHttp(options: {
  settings: HttpSettings;
  databases: ScratchDatabase[];
  strategies: StrategyName[];
  smtpUrl: string;
  log?: (line: string) => void;
}): Promise<HttpResults> {
  const log = options.log ?? (() => {});
  const results: HttpResults = { scenarios: [], memory: [], floods: [] };
  const secrets = newSecrets();
  const pg = options.databases.find((database) => database.store === 'PostgreSQL');
  await benchHello(options.settings, results, log, pg?.url ?? null);
  for (const [index, database] of options.databases.entries()) {
    for (const strategy of options.strategies) {
      await benchService(options.settings, results, {
        database,
        strategy,
        smtpUrl: options.smtpUrl,
        secrets,
        flood: index === 0,
        log,
      });
    }
  }
  return results;
}
