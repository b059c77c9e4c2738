/**
 * `npm run bench`: micro (in process) and HTTP (autocannon against server processes)
 * measurements in one run, every figure beside a baseline measured in the same run.
 *
 *   tsx bench/run.ts                full run (< 10 min on 2 cores): writes bench/RESULTS.md
 *                                   and bench/cpu-per-request.svg
 *   tsx bench/run.ts --quick        smoke run (< 60 s): writes test-output/bench/ instead
 *   tsx bench/run.ts --user         `mailproof bench`: the store named by MAILPROOF_DATABASE_URL
 *                                   (a scratch database beside it), both strategies, printed
 *                                   with a recommendation; writes nothing unless --out is given
 *
 * Other flags:
 *   --out DIR          write the report there instead
 *   --no-postgres      SQLite only
 *   --pin              a core each for the server and the load generator (bench/cpu-pinning.ts)
 *   --server-env K=V   extra environment for the servers under test (repeatable), e.g.
 *                      rate-limit switches
 *   --report-from FILE the report again from a run's raw figures
 *                      (test-output/bench/results.json), nothing measured
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config.js';
import type { StrategyName } from '../src/core/strategies/strategy.js';
import { buildServer } from './build-server.js';
import { PROJECT_ROOT } from './child.js';
import { cpuPlanText, enablePinning, pinLoadGenerator } from './cpu-pinning.js';
import {
  DEFAULT_PG_URL,
  postgresUnreachable,
  postgresVersion,
  type ScratchDatabase,
  scratchPostgres,
  scratchSqlite,
  storeOf,
} from './databases.js';
import { type HttpSettings, runHttp } from './http.js';
import { runMicro } from './micro.js';
import { type BenchResults, renderMarkdown, renderSvg, verdicts } from './report.js';
import { SmtpSink } from './smtp-sink.js';

/** Full and quick settings. Quick proves every path works; its figures mean little. */
function settingsFor(quick: boolean, serverEnv: NodeJS.ProcessEnv): HttpSettings {
  return quick
    ? {
        connections: 50,
        durationS: 0.5,
        warmS: 0.2,
        firstUse: { SQLite: 300, PostgreSQL: 150 },
        settleMs: 100,
        drainCapMs: 5000,
        flood: { rate: 50, connections: 5, quietS: 0.5, floodS: 0.5 },
        serverEnv,
      }
    : {
        connections: 50,
        durationS: 10,
        warmS: 2,
        firstUse: { SQLite: 20_000, PostgreSQL: 8000 },
        settleMs: 3000,
        drainCapMs: 60_000,
        flood: { rate: 100, connections: 10, quietS: 5, floodS: 10 },
        serverEnv,
      };
}

async function packageVersion(name: string): Promise<string> {
  const text = await readFile(join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: PROJECT_ROOT })
      .toString()
      .trim();
    return dirty ? `${sha} (src/ modified)` : sha;
  } catch {
    return 'unknown';
  }
}

function machine(): string {
  const cores = cpus();
  return `${cores[0]?.model ?? 'unknown CPU'}, ${cores.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform} ${release()}`;
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  const row = db.prepare('SELECT sqlite_version() AS v').get() as { v: string };
  db.close();
  return row.v;
}

function parseServerEnv(pairs: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--server-env wants KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

/**
 * The databases to run on. The project's run: a temp SQLite file and, when it answers, a
 * scratch database on the PostgreSQL server at MAILPROOF_BENCH_PG_URL. The user's run: a
 * scratch database of the kind they configured, beside theirs (never theirs itself).
 */
async function databases(user: boolean, noPostgres: boolean) {
  const made: ScratchDatabase[] = [];
  let postgresSkipped: string | null = null;
  let pgUrl: string | null = null;
  if (user) {
    const configured = loadConfig(process.env).databaseUrl;
    if (storeOf(configured) === 'SQLite') {
      // Beside the configured file, on the same disk; the temp dir if its folder is not there
      // yet (the bench creates nothing of the user's).
      const path = configured.slice('sqlite:'.length);
      const parent = path !== ':memory:' && existsSync(dirname(path)) ? dirname(path) : undefined;
      return { databases: [await scratchSqlite(parent)], pgUrl, postgresSkipped };
    }
    pgUrl = configured;
  } else {
    if (noPostgres) postgresSkipped = '--no-postgres';
    else {
      const why = await postgresUnreachable(DEFAULT_PG_URL);
      if (why) postgresSkipped = `${new URL(DEFAULT_PG_URL).host} unreachable (${why})`;
      else pgUrl = DEFAULT_PG_URL;
    }
    made.push(await scratchSqlite());
  }
  if (pgUrl) {
    try {
      made.push(await scratchPostgres(pgUrl));
    } catch (error) {
      throw new Error(
        `cannot create a scratch database on ${new URL(pgUrl).host} (the bench never writes into an existing one; it needs CREATEDB): ${(error as Error).message}`,
      );
    }
  }
  return { databases: made, pgUrl, postgresSkipped };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      user: { type: 'boolean', default: false },
      out: { type: 'string' },
      'no-postgres': { type: 'boolean', default: false },
      pin: { type: 'boolean', default: false },
      'report-from': { type: 'string' },
      'server-env': { type: 'string', multiple: true, default: [] },
    },
  });
  if (values['report-from']) {
    // Writes the report again from a run's raw figures: after a change to bench/report.ts,
    // without measuring again.
    const saved = JSON.parse(await readFile(values['report-from'], 'utf8')) as BenchResults;
    await write(saved, { quick: saved.info.quick, user: false, out: values.out });
    return;
  }
  const quick = values.quick ?? false;
  const user = values.user ?? false;
  const started = Date.now();
  const log = (line: string) =>
    console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);
  const settings = settingsFor(quick, parseServerEnv(values['server-env'] ?? []));
  const configured = user ? loadConfig(process.env).strategy : undefined;
  // The configured strategy first: if the run is cut short, its figures exist.
  const strategies: StrategyName[] = configured === 'jwt' ? ['jwt', 'opaque'] : ['opaque', 'jwt'];

  log('building the server under test');
  await buildServer();
  if (values.pin) {
    enablePinning();
    pinLoadGenerator();
  }
  const dbs = await databases(user, values['no-postgres'] ?? false);
  // The bare PostgreSQL baselines make tables of their own: a database of their own too.
  const pgBaseline = dbs.pgUrl ? await scratchPostgres(dbs.pgUrl) : null;
  const sink = new SmtpSink();
  await sink.start();
  try {
    const micro = await runMicro({
      calls: quick ? 100 : 2000,
      databases: dbs.databases,
      strategies,
      pgBaselineUrl: pgBaseline?.url ?? null,
      log,
    });
    const http = await runHttp({
      settings,
      databases: dbs.databases,
      strategies,
      smtpUrl: sink.url,
      log,
    });
    const versions: Record<string, string> = {
      node: process.version,
      fastify: await packageVersion('fastify'),
      'better-sqlite3': await packageVersion('better-sqlite3'),
      SQLite: sqliteVersion(),
      pg: await packageVersion('pg'),
      autocannon: await packageVersion('autocannon'),
    };
    if (dbs.pgUrl) versions.PostgreSQL = await postgresVersion(dbs.pgUrl);
    const results: BenchResults = {
      info: {
        date: new Date().toISOString(),
        command:
          `${user ? 'mailproof bench' : 'npm run bench --'}${quick ? ' --quick' : ''}`.replace(
            / --$/,
            '',
          ),
        quick,
        durationS: (Date.now() - started) / 1000,
        machine: machine(),
        versions,
        commit: commit(),
        postgresSkipped: dbs.postgresSkipped,
        cores: cpuPlanText(),
      },
      settings,
      micro,
      http,
    };
    await write(results, { quick, user, out: values.out, configured });
    log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    // A run whose answers were not the expected ones measured something else (a 429, a
    // 503): the files say so, and the exit code makes the smoke test fail.
    const invalid = http.scenarios.filter((s) => !s.ok);
    for (const s of invalid) {
      console.error(
        `bench: ${s.server}, ${s.scenario}: expected ${s.expected}, got ${JSON.stringify(s.load.statuses)} (${s.load.errors} errors)`,
      );
    }
    if (invalid.length > 0) process.exitCode = 1;
  } finally {
    await sink.stop();
    for (const db of [...dbs.databases, ...(pgBaseline ? [pgBaseline] : [])]) {
      await db.drop().catch(() => {});
    }
  }
}

/** Where each kind of run writes, and what it prints. */
async function write(
  results: BenchResults,
  options: { quick: boolean; user: boolean; out: string | undefined; configured?: StrategyName },
): Promise<void> {
  const outDir = options.out
    ? resolve(options.out)
    : options.user
      ? null
      : options.quick
        ? join(PROJECT_ROOT, 'test-output', 'bench')
        : join(PROJECT_ROOT, 'bench');
  const chart = 'cpu-per-request.svg';
  const markdown = renderMarkdown(results, outDir ? chart : null, options.configured);
  if (outDir) {
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'RESULTS.md'), markdown);
    await writeFile(join(outDir, chart), renderSvg(results));
    // Raw figures, for comparing runs; never committed (test-output/ is ignored).
    const rawDir = join(PROJECT_ROOT, 'test-output', 'bench');
    await mkdir(rawDir, { recursive: true });
    await writeFile(
      join(rawDir, `results${options.quick ? '-quick' : ''}.json`),
      JSON.stringify(results, null, 2),
    );
    console.log(`wrote ${relative(process.cwd(), join(outDir, 'RESULTS.md'))} and ${chart}`);
  }
  if (options.user) {
    // The whole report, which ends with the recommendation for the user's store.
    console.log(markdown);
    return;
  }
  const list = verdicts(results);
  console.log(`targets met: ${list.filter((v) => v.met === true).length} of ${list.length}`);
  for (const v of list.filter((v) => v.met !== true)) {
    console.log(
      `  ${v.met === null ? 'invalid' : 'missed'}: ${v.target}: ${v.measured} (budget ${v.budget})`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
