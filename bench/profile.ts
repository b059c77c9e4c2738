/**
 * Profiles one HTTP scenario of `npm run bench` (same server, settings, warm-up and
 * pre-issued tokens) over the scenario's own time window, start-up and warm-up left out.
 *
 *   tsx bench/profile.ts STRATEGY STORE SCENARIO [--seconds N] [--perf] [--pin]
 *   e.g. tsx bench/profile.ts opaque sqlite forged
 *
 * SCENARIO: issue, first-use, replay, forged, or drain (the outbox worker delivering the
 * mails of an issue run made while it was paused: what a mail costs).
 *
 * Default: `node --cpu-prof`, summarised by bench/cpuprofile-summary.ts. V8's profile
 * samples the main thread by wall clock: time the thread spends descheduled (2 cores shared
 * with the load generator) lands on whatever was on its stack, and the libuv pool (jwt's
 * Ed25519 checks) is not sampled at all. `--perf` instead attaches Linux `perf record` (needs
 * perf and the permission to attach) to the server run with `--perf-basic-prof`: on-CPU
 * samples of every thread, kernel included, reported by JS function with inclusive shares.
 *
 * Writes test-output/profiles/<label>[-perf].md (and the raw profile beside it).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { OutboxDepth } from '../src/core/ports.js';
import type { StrategyName } from '../src/core/strategies/strategy.js';
import { buildServer } from './build-server.js';
import { PROJECT_ROOT, ServerChild } from './child.js';
import { enablePinning, pinLoadGenerator } from './cpu-pinning.js';
import { formatSummary, readProfile, summarise } from './cpuprofile-summary.js';
import {
  DEFAULT_PG_URL,
  type ScratchDatabase,
  scratchPostgres,
  scratchSqlite,
} from './databases.js';
import { drain, newSecrets, preIssue, serviceEnv, TokenIssuer, tokenBodies } from './http.js';
import { fire, type LoadOptions } from './load.js';
import { forge } from './micro.js';
import type { ServerStats } from './server.js';
import { SmtpSink } from './smtp-sink.js';

const SCENARIOS = ['issue', 'first-use', 'replay', 'forged', 'drain'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** What happened in the profiled window. */
interface Window {
  before: ServerStats;
  after: ServerStats;
  /** Requests answered, or mails delivered for `drain`. */
  units: number;
  unit: string;
  note: string;
}

/** `perf report` output, trimmed to the lines worth reading. */
function perfReport(data: string): string {
  const report = (...args: string[]) =>
    execFileSync('perf', ['report', '-i', data, '--stdio', '-g', 'none', ...args], {
      maxBuffer: 256 * 2 ** 20,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
  const byDso = report('--no-children', '--sort', 'dso').slice(0, 10);
  const inclusive = report('--children', '--sort', 'sym')
    .filter((line) =>
      /JS:|sqlite3_step|ossl_ed25519|writev|Scavenge|fsync|pwrite|fcntl|CaptureSimpleStackTrace/.test(
        line,
      ),
    )
    .slice(0, 60);
  const self = report('--no-children', '--sort', 'sym').slice(0, 30);
  return [
    'On-CPU samples of every thread of the server (perf record -g, --perf-basic-prof).',
    '',
    'By binary (self):',
    '```',
    ...byDso,
    '```',
    '',
    'Inclusive (children) share of JS functions and a few native markers:',
    '```',
    ...inclusive,
    '```',
    '',
    'Self time by symbol:',
    '```',
    ...self,
    '```',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      seconds: { type: 'string', default: '15' },
      connections: { type: 'string', default: '50' },
      perf: { type: 'boolean', default: false },
      pin: { type: 'boolean', default: false },
    },
  });
  const [strategy, storeArg, scenario] = positionals as [StrategyName, string, Scenario];
  if (
    !['opaque', 'jwt'].includes(strategy) ||
    !['sqlite', 'postgres'].includes(storeArg) ||
    !SCENARIOS.includes(scenario)
  ) {
    throw new Error(
      `usage: profile.ts opaque|jwt sqlite|postgres ${SCENARIOS.join('|')} [--seconds N] [--perf]`,
    );
  }
  const usePerf = values.perf ?? false;
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const label = `${strategy}-${storeArg}-${scenario}${usePerf ? '-perf' : ''}`;
  const outDir = join(PROJECT_ROOT, 'test-output', 'profiles');
  const profDir = join(outDir, label);
  await rm(profDir, { recursive: true, force: true });
  await mkdir(profDir, { recursive: true });

  await buildServer();
  if (values.pin) {
    enablePinning();
    pinLoadGenerator();
  }
  const database: ScratchDatabase =
    storeArg === 'sqlite' ? await scratchSqlite() : await scratchPostgres(DEFAULT_PG_URL);
  const sink = new SmtpSink();
  await sink.start();
  const dataDir = await mkdtemp(join(tmpdir(), 'mailproof-profile-'));
  const secrets = newSecrets();
  const env = serviceEnv({ serverEnv: {} }, secrets, {
    dataDir,
    databaseUrl: database.url,
    strategy,
    smtpUrl: sink.url,
  });
  const server = await ServerChild.start({
    kind: 'mailproof',
    env,
    ...(usePerf ? { nodeFlags: ['--perf-basic-prof'] } : { cpuProfDir: profDir }),
  });
  const issuer = await TokenIssuer.open(env);
  const perfData = join(profDir, 'perf.data');
  let perf: ChildProcess | undefined;
  /** Opens the window: the perf recorder attaches here, and the readings start. */
  const open = async () => {
    if (usePerf) {
      perf = spawn(
        'perf',
        ['record', '-F', '1999', '-g', '-o', perfData, '-p', String(server.pid)],
        {
          stdio: 'ignore',
        },
      );
      await sleep(500);
    }
    return server.stats();
  };
  const close = async () => {
    const after = await server.stats();
    if (perf) {
      perf.kill('SIGINT');
      await once(perf, 'exit');
    }
    return after;
  };

  let window: Window | undefined;
  try {
    const post = (path: string): LoadOptions => ({
      url: server.url,
      method: 'POST',
      path,
      connections,
    });
    const auth = { authorization: `Bearer ${secrets.apiKey}` };
    let n = 0;
    const issueBodies = () => JSON.stringify({ email: `p${n++}@example.com` });
    // Enough first-use tokens for the run at the rates npm run bench measured, and more.
    const perSecond = storeArg === 'sqlite' ? 7000 : 3000;
    const tokens = await preIssue(
      server,
      issuer,
      scenario === 'first-use' ? Math.ceil(seconds * perSecond) : 500,
    );
    await fire({
      ...post('/v1/verify'),
      nextBody: tokenBodies(tokens.slice(0, 400)),
      durationS: 2,
    });
    await fire({
      ...post('/v1/verifications'),
      headers: auth,
      nextBody: issueBodies,
      durationS: 2,
    });
    // The warm-up's mails must be delivered before the window opens, or the profile shows
    // the outbox worker as much as the scenario.
    await drain(server, 120_000);

    if (scenario === 'drain') {
      await server.call('pauseWorker');
      await fire({
        ...post('/v1/verifications'),
        headers: auth,
        nextBody: issueBodies,
        durationS: seconds,
      });
      const queued = (await server.call<OutboxDepth>('outboxDepth')).pending;
      const before = await open();
      await server.call('resumeWorker');
      const drained = await drain(server, 300_000);
      const after = await close();
      window = {
        before,
        after,
        units: queued,
        unit: 'mail',
        note: `${queued} mails delivered in ${drained.s.toFixed(1)} s`,
      };
    } else {
      const rest = tokens.slice(400);
      const load: LoadOptions =
        scenario === 'issue'
          ? {
              ...post('/v1/verifications'),
              headers: auth,
              nextBody: issueBodies,
              durationS: seconds,
            }
          : scenario === 'first-use'
            ? {
                ...post('/v1/verify'),
                nextBody: tokenBodies(rest),
                amount: rest.length - 2 * connections,
              }
            : scenario === 'replay'
              ? {
                  ...post('/v1/verify'),
                  nextBody: tokenBodies(tokens.slice(0, 400)),
                  durationS: seconds,
                }
              : {
                  ...post('/v1/verify'),
                  body: JSON.stringify({ token: forge(strategy, tokens[0]!) }),
                  durationS: seconds,
                };
      const before = await open();
      const result = await fire(load);
      const after = await close();
      window = {
        before,
        after,
        units: result.requests,
        unit: 'request',
        note: `${result.requests} responses ${JSON.stringify(result.statuses)}, ${result.rps.toFixed(0)} req/s, p99 ${result.p99Ms} ms`,
      };
    }
  } finally {
    await issuer.close();
    await server.stop();
    await sink.stop();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
  if (!window) throw new Error('nothing was measured');
  const cpuPerUnit = (window.after.cpuUs - window.before.cpuUs) / window.units;
  const sysPerUnit = (window.after.systemUs - window.before.systemUs) / window.units;
  const head = [
    `# ${usePerf ? 'perf' : 'V8 CPU'} profile: ${strategy} + ${storeArg}, ${scenario}`,
    '',
    `${window.note}; server CPU ${cpuPerUnit.toFixed(0)} µs per ${window.unit} (${sysPerUnit.toFixed(0)} µs in the kernel), profiler on.`,
    '',
  ];
  let body: string;
  if (usePerf) body = perfReport(perfData);
  else {
    const file = (await readdir(profDir)).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no .cpuprofile written');
    const summary = summarise(await readProfile(join(profDir, file)), {
      fromUs: window.before.monoUs,
      toUs: window.after.monoUs,
      top: 30,
    });
    body = `Main-thread samples: ${((summary.busyMs * 1000) / window.units).toFixed(0)} µs per ${window.unit} (wall clock while not idle).\n\n${formatSummary(summary)}`;
  }
  const text = [...head, body, ''].join('\n');
  await writeFile(join(outDir, `${label}.md`), text);
  console.log(text);
}

main().catch((error: unknown) => {
  console.error(`profile: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
