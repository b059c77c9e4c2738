/**
 * Turns one run's measurements into RESULTS.md, the CPU-per-request chart (hand-written
 * SVG) and, for `mailproof bench`, a plain recommendation. Pure functions of the results:
 * nothing here measures.
 */
import type { StrategyName } from '../src/core/strategies/strategy.js';
import type { StoreName } from './databases.js';
import type { FloodResult, HttpResults, HttpSettings, ScenarioResult } from './http.js';
import { LIFECYCLE_OPS, type LifecycleOp, type MicroResults, type OpCost } from './micro.js';

/** Where and with what the run happened. */
export interface RunInfo {
  date: string;
  /** How the run was started, e.g. `npm run bench` or `mailproof bench`. */
  command: string;
  quick: boolean;
  durationS: number;
  machine: string;
  versions: Record<string, string>;
  commit: string;
  /** Why PostgreSQL is missing, when it is. */
  postgresSkipped: string | null;
  /** How the server and the load generator shared the cores. */
  cores: string;
}

/** Everything one run produced. */
export interface BenchResults {
  info: RunInfo;
  settings: HttpSettings;
  micro: MicroResults;
  http: HttpResults;
}

/** One target of the issue, checked against this run. */
export interface Verdict {
  target: string;
  measured: string;
  budget: string;
  /**
   * CPU targets: the floor (bare Fastify doing only the scenario's unavoidable work, see
   * bench/server.ts) and what mailproof adds beyond it. Empty where no floor applies.
   */
  floor: string;
  /** null: the run it depends on got unexpected answers, so it proves nothing. */
  met: boolean | null;
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const ratio = (n: number, of: number) => (of > 0 ? `${(n / of).toFixed(2)}×` : '–');

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function find(results: BenchResults, server: string, scenario: ScenarioResult['scenario']) {
  return results.http.scenarios.find((s) => s.server === server && s.scenario === scenario);
}

/** Server CPU µs per hello-world GET: the denominator of every HTTP ratio. */
export function helloCpu(results: BenchResults): number {
  return find(results, 'hello', 'hello GET')?.cpuUsPerReq ?? Number.NaN;
}

/** Issue runs count their mail delivery too: it is work the request commits the server to. */
function chartCpu(s: ScenarioResult): number {
  return s.delivery?.drained ? s.delivery.totalCpuUsPerIssue : s.cpuUsPerReq;
}

/**
 * The raw operations a lifecycle op cannot avoid, summed from this run's baselines: the
 * "floor" its micro ratio is taken against. Issue's floor is its token's crypto plus one
 * write transaction (it makes one, with three inserts). A verify on SQLite reads first, and
 * writes only for a usable token; on PostgreSQL every verify is one statement that writes.
 */
function floor(micro: MicroResults, strategy: StrategyName, store: StoreName, op: LifecycleOp) {
  const b = micro.baselines;
  const write = (store === 'SQLite' ? b.sqliteSingleUse : b.pgSingleUse)?.cpuUs ?? Number.NaN;
  const read = (store === 'SQLite' ? b.sqliteLookup : b.pgLookup)?.cpuUs ?? Number.NaN;
  const check = strategy === 'jwt' ? b.ed25519Verify.cpuUs : b.sha256.cpuUs;
  if (op === 'issue') return (strategy === 'jwt' ? b.ed25519Sign.cpuUs : b.sha256.cpuUs) + write;
  // jwt refuses forged and expired tokens from the signature and the clock alone.
  if (strategy === 'jwt' && (op === 'forged' || op === 'expired')) return check;
  if (store === 'PostgreSQL') return check + write;
  return op === 'first use' ? check + read + write : check + read;
}

/** A floor for a CPU target: measured, or estimated from measured parts. */
interface Floor {
  us: number;
  /** How it was obtained, e.g. `floor: Ed25519 verify`. */
  text: string;
}

/** Server CPU µs of a floor scenario of the hello server. */
function floorCpu(results: BenchResults, scenario: ScenarioResult['scenario']): number {
  const s = find(results, 'hello', scenario);
  return s?.ok ? s.cpuUsPerReq : Number.NaN;
}

/** Checks the issue's targets against this run. */
export function verdicts(results: BenchResults): Verdict[] {
  const hello = helloCpu(results);
  const b = results.micro.baselines;
  const verify = b.ed25519Verify.cpuUs;
  const update = b.sqliteSingleUse.cpuUs;
  const refusal = floorCpu(results, 'floor: refusal');
  const ed25519 = floorCpu(results, 'floor: Ed25519 verify');
  const sqliteWrite = floorCpu(results, 'floor: SQLite write');
  const floors = {
    refusal: { us: refusal, text: 'floor: refusal' },
    ed25519: { us: ed25519, text: 'floor: Ed25519 verify' },
    sqliteWrite: { us: sqliteWrite, text: 'floor: SQLite write' },
    ed25519Write: {
      us: ed25519 + sqliteWrite - refusal,
      text: 'est.: Ed25519 verify + SQLite write − refusal floors',
    },
    pgWrite: {
      us: floorCpu(results, 'floor: PostgreSQL write'),
      text: 'floor: PostgreSQL write',
    },
    ed25519PgWrite: {
      us: ed25519 + floorCpu(results, 'floor: PostgreSQL write') - refusal,
      text: 'est.: Ed25519 verify + PostgreSQL write − refusal floors',
    },
  } satisfies Record<string, Floor>;
  const out: Verdict[] = [];
  const cpuTarget = (
    target: string,
    s: ScenarioResult | undefined,
    budget: number,
    budgetText: string,
    floor: Floor,
    value = s ? s.cpuUsPerReq : Number.NaN,
  ) => {
    if (!s) return;
    out.push({
      target,
      measured: s.ok
        ? `${f0(value)} µs (${ratio(value, hello)} hello)`
        : 'invalid run: unexpected answers',
      budget: `${f0(budget)} µs (${budgetText})`,
      floor: Number.isFinite(floor.us)
        ? `${f0(floor.us)} µs (${floor.text}); mailproof's own: ${f0(value - floor.us)} µs`
        : '–',
      met: s.ok ? value <= budget : null,
    });
  };
  cpuTarget(
    'opaque + SQLite, verify first use ≤ 3× hello',
    find(results, 'opaque + SQLite', 'verify first use'),
    3 * hello,
    '3 × hello',
    floors.sqliteWrite,
  );
  for (const store of ['SQLite', 'PostgreSQL'] as const) {
    cpuTarget(
      `opaque + ${store}, verify forged/unknown ≤ 1.5× hello`,
      find(results, `opaque + ${store}`, 'verify forged'),
      1.5 * hello,
      '1.5 × hello',
      // On PostgreSQL an unknown token still costs the round trip that finds it unknown.
      store === 'SQLite' ? floors.refusal : floors.pgWrite,
    );
    cpuTarget(
      `jwt + ${store}, verify forged ≤ hello + 1.25 × raw Ed25519 verify`,
      find(results, `jwt + ${store}`, 'verify forged'),
      hello + 1.25 * verify,
      `${f0(hello)} + 1.25 × ${f0(verify)}`,
      floors.ed25519,
    );
  }
  cpuTarget(
    'jwt + SQLite, verify first use ≤ hello + 1.25 × raw verify + 1.5 × bare SQLite single-use update',
    find(results, 'jwt + SQLite', 'verify first use'),
    hello + 1.25 * verify + 1.5 * update,
    `${f0(hello)} + 1.25 × ${f0(verify)} + 1.5 × ${f0(update)}`,
    floors.ed25519Write,
  );
  const issue = find(results, 'opaque + SQLite', 'issue');
  cpuTarget(
    'opaque + SQLite, issue (with its mail delivery) ≤ 5× hello',
    issue,
    5 * hello,
    '5 × hello',
    floors.sqliteWrite,
    issue ? chartCpu(issue) : Number.NaN,
  );
  cpuTarget(
    'opaque + SQLite, issue (HTTP call alone, estimated) ≤ 5× hello',
    issue,
    5 * hello,
    '5 × hello',
    floors.sqliteWrite,
    issue?.delivery?.requestPathCpuUs ?? Number.NaN,
  );
  for (const strategy of ['opaque', 'jwt'] as const) {
    cpuTarget(
      `${strategy} + PostgreSQL, verify first use ≤ 4× hello (app CPU)`,
      find(results, `${strategy} + PostgreSQL`, 'verify first use'),
      4 * hello,
      '4 × hello',
      strategy === 'jwt' ? floors.ed25519PgWrite : floors.pgWrite,
    );
  }
  for (const s of results.http.scenarios) {
    if (s.store !== 'SQLite') continue;
    out.push({
      target: `p99 ≤ 20 ms at ${results.settings.connections} connections: ${s.server}, ${s.scenario}`,
      measured: s.ok ? `${f1(s.load.p99Ms)} ms` : 'invalid run: unexpected answers',
      budget: '20 ms',
      floor: '',
      met: s.ok ? s.load.p99Ms <= 20 : null,
    });
  }
  for (const m of results.http.memory) {
    if (m.server === 'hello') continue;
    out.push({
      target: `peak RSS ≤ 150 MB: ${m.server}`,
      measured: `${f0(m.peakMb)} MB`,
      budget: '150 MB',
      floor: '',
      met: m.peakMb <= 150,
    });
    out.push({
      target: `RSS back within 10% of pre-load after the load: ${m.server}`,
      measured: `${f0(m.afterMb)} MB vs ${f0(m.preLoadMb)} MB (+${f0((m.afterMb / m.preLoadMb - 1) * 100)}%)`,
      budget: `${f0(m.preLoadMb * 1.1)} MB`,
      floor: '',
      met: m.afterMb <= m.preLoadMb * 1.1,
    });
  }
  return out;
}

function microSection(micro: MicroResults): string {
  const b = micro.baselines;
  const base = (label: string, cost: OpCost | null) =>
    cost ? [label, f1(cost.cpuUs), f1(cost.wallUs)] : [label, '–', '–'];
  const baselines = table(
    ['raw operation', 'CPU µs', 'wall µs'],
    [
      base('Ed25519 sign (node:crypto, sync)', b.ed25519Sign),
      base('Ed25519 verify (node:crypto, sync)', b.ed25519Verify),
      base(
        'Ed25519 verify (callback form, libuv pool, as the jwt strategy calls it)',
        b.ed25519VerifyAsync,
      ),
      base('SHA-256 of a 43-character token', b.sha256),
      base('bare SQLite prepared lookup by key', b.sqliteLookup),
      base('bare SQLite single-use UPDATE … RETURNING (autocommit, WAL)', b.sqliteSingleUse),
      base('bare PostgreSQL prepared lookup (client side of one round trip)', b.pgLookup),
      base('bare PostgreSQL single-use UPDATE … RETURNING (client side)', b.pgSingleUse),
    ],
  );
  const rows = micro.lifecycle.map((l) => [
    `${l.strategy} + ${l.store}`,
    ...LIFECYCLE_OPS.map((op) => {
      const cost = l.ops[op];
      return `${f1(cost.cpuUs)} / ${f1(cost.wallUs)} (${ratio(cost.cpuUs, floor(micro, l.strategy, l.store, op))})`;
    }),
  ]);
  return [
    `### Micro: in process, one call at a time (${micro.calls} calls each, ${micro.pgCalls} on PostgreSQL)`,
    '',
    baselines,
    '',
    'Lifecycle (`Verifications` over the real store), CPU µs / wall µs per call, and in',
    'brackets CPU as a multiple of the raw operations the call cannot avoid, from the table',
    'above: SHA-256 or Ed25519 verify, plus on SQLite the bare lookup (every verify reads',
    'first) and the bare single-use update for a first use, on PostgreSQL the bare update',
    '(every verify is one statement); jwt forged and expired: the verify alone. Issue:',
    'SHA-256 or Ed25519 sign plus one bare write. PostgreSQL CPU is this process only: the',
    "database server's own work is not in it, but it is in wall time.",
    '',
    table(['strategy + store', ...LIFECYCLE_OPS], rows),
  ].join('\n');
}

function statusText(s: ScenarioResult): string {
  return Object.entries(s.load.statuses)
    .map(([code, n]) => `${n} × ${code}`)
    .join(', ');
}

function httpSection(results: BenchResults): string {
  const hello = helloCpu(results);
  const { settings } = results;
  const rows = results.http.scenarios.map((s) => [
    s.server,
    s.scenario,
    f0(s.load.rps),
    f1(s.load.p50Ms),
    f1(s.load.p99Ms),
    f0(s.cpuUsPerReq),
    `${f0(s.systemShare * 100)}%`,
    ratio(s.cpuUsPerReq, hello),
    f0(s.peakRssMb),
    `${s.load.requests}${s.ok ? '' : ` ⚠ expected ${s.expected}: ${statusText(s)}, ${s.load.errors} errors`}`,
  ]);
  const issues = results.http.scenarios.filter((s) => s.delivery);
  const issueRows = issues.map((s) => {
    const d = s.delivery!;
    return [
      s.server,
      f0(s.cpuUsPerReq),
      f0(d.requestPathCpuUs),
      `${d.queuedAfterRun} in ${f1(d.drainS)} s${d.drained ? '' : ' (not drained)'}`,
      f0(d.cpuUsPerMail),
      `${f0(d.totalCpuUsPerIssue)} (${ratio(d.totalCpuUsPerIssue, hello)})`,
    ];
  });
  const memRows = results.http.memory.map((m) => [
    m.server,
    `${f0(m.preLoadMb)} (heap ${f0(m.preLoadHeapUsedMb)} used)`,
    `${f0(m.peakMb)} (heap ${f0(m.peakHeapUsedMb)} used of ${f0(m.peakHeapTotalMb)}, external ${f0(m.peakExternalMb)})`,
    `${f0(m.afterMb)} (${m.afterMb >= m.preLoadMb ? '+' : ''}${f0((m.afterMb / m.preLoadMb - 1) * 100)}%)`,
    `${f0(m.afterGcMb)} (heap ${f0(m.afterGcHeapUsedMb)} used)`,
  ]);
  return [
    `### HTTP: autocannon, ${settings.connections} connections, keep-alive, no pipelining`,
    '',
    `Duration-bound runs last ${settings.durationS} s after a ${settings.warmS} s warm-up; a first-use run sends`,
    `${settings.firstUse.SQLite} (SQLite) or ${settings.firstUse.PostgreSQL} (PostgreSQL) requests, each with a token`,
    "never presented before. CPU is the server process's user + system time (every thread, so",
    "the libuv pool's Ed25519 checks count) over the run, per response; ratios are to the bare",
    'Fastify hello-world GET of the same run. "Of it kernel" is the system-time share (socket',
    'writes and reads, file I/O). The load generator is the bench process, on the same machine,',
    'as is PostgreSQL.',
    '',
    table(
      [
        'server',
        'scenario',
        'req/s',
        'p50 ms',
        'p99 ms',
        'CPU µs/req',
        'of it kernel',
        '× hello',
        'peak RSS MB',
        'responses',
      ],
      rows,
    ),
    '',
    'Issue runs, with the mail each verification commits to the outbox (delivered by the worker',
    'to an SMTP sink in the bench process). "HTTP call alone" subtracts the deliveries made during',
    'the run, priced by the drain after it:',
    '',
    table(
      [
        'server',
        'CPU µs/req during run',
        'HTTP call alone, µs',
        'queued after run',
        'µs per mail delivered',
        'total µs per issue',
      ],
      issueRows,
    ),
    '',
    'Server memory, MB (pre-load: started and idle; after: idle for',
    `${settings.settleMs / 1000} s once the load stopped; after GC: then a forced collection, a diagnostic):`,
    '',
    table(['server', 'pre-load RSS', 'peak RSS', 'after', 'after GC'], memRows),
  ].join('\n');
}

function floodSection(floods: FloodResult[], settings: HttpSettings): string {
  if (floods.length === 0) return '';
  const rows = floods.map((f) => [
    f.server,
    `${f.rate}/s`,
    `${f1(f.quiet.p50Ms)} / ${f1(f.quiet.p99Ms)}`,
    `${(f.successRate * 100).toFixed(1)}% (${f.legit.verified} of ${f.legit.sent})`,
    `${f1(f.legit.p50Ms)} / ${f1(f.legit.p99Ms)}`,
    f0(f.forged.rps),
    f1(f.forged.p99Ms),
  ]);
  return [
    '### Flood: legitimate verifications while forged tokens arrive at full speed',
    '',
    `Legitimate first uses at a fixed rate over ${settings.flood.connections} connections (latency corrected for`,
    `coordinated omission), first ${settings.flood.quietS} s alone, then ${settings.flood.floodS} s beside ${settings.connections}`,
    'connections sending one forged token as fast as the server answers (from a worker thread).',
    '',
    table(
      [
        'server',
        'legit rate',
        'alone p50 / p99 ms',
        'success under flood',
        'under flood p50 / p99 ms',
        'forged req/s',
        'forged p99 ms',
      ],
      rows,
    ),
  ].join('\n');
}

function verdictSection(results: BenchResults): string {
  const list = verdicts(results);
  const met = list.filter((v) => v.met === true).length;
  const invalid = list.filter((v) => v.met === null).length;
  const verdict = (v: Verdict) => (v.met === null ? '**invalid**' : v.met ? 'met' : '**missed**');
  return [
    `### Targets: ${met} of ${list.length} met${invalid ? `, ${invalid} not measurable (invalid runs)` : ''}`,
    '',
    table(
      ['target', 'measured', 'budget', 'floor (bare Fastify, same run)', ''],
      list.map((v) => [v.target, v.measured, v.budget, v.floor, verdict(v)]),
    ),
    '',
    'A floor is bare Fastify doing only the work a scenario cannot avoid, with the headers',
    'every mailproof answer carries (`floor: …` rows of the HTTP table): a refusal; one',
    'failing Ed25519 check; SHA-256 and one autocommit single-row UPDATE … RETURNING on',
    'SQLite, or on PostgreSQL (a named prepared statement, a pool of 10). Where',
    'a budget lies below its floor, no Fastify service can meet it on this machine; what',
    'mailproof adds beyond the floor is its guards, lifecycle, store and metrics.',
  ].join('\n');
}

/** Per-strategy facts for the recommendation, on one store. */
interface StrategyFacts {
  first: number;
  forged: number;
  issue: number;
  flood: FloodResult | undefined;
}

function facts(results: BenchResults, strategy: StrategyName, store: StoreName) {
  const server = `${strategy} + ${store}`;
  const first = find(results, server, 'verify first use');
  const forged = find(results, server, 'verify forged');
  const issue = find(results, server, 'issue');
  if (!first?.ok || !forged?.ok || !issue?.ok) return undefined;
  return {
    first: first.cpuUsPerReq,
    forged: forged.cpuUsPerReq,
    issue: chartCpu(issue),
    flood: results.http.floods.find((f) => f.server === server),
  } satisfies StrategyFacts;
}

/**
 * A plain recommendation for `store`, from this run alone: what a verify costs with each
 * strategy, and which to use. `configured` is the user's current choice, if any.
 */
export function recommendation(
  results: BenchResults,
  store: StoreName,
  configured?: StrategyName,
): string {
  const opaque = facts(results, 'opaque', store);
  const jwt = facts(results, 'jwt', store);
  if (!opaque || !jwt) {
    return 'No recommendation: some runs got unexpected answers (see the tables), so their figures prove nothing.';
  }
  const verify = results.micro.baselines.ed25519Verify.cpuUs;
  const flood = (f: FloodResult | undefined) =>
    f
      ? ` Under a flood of forged tokens, ${(f.successRate * 100).toFixed(1)}% of legitimate verifications succeeded, p99 ${f1(f.legit.p99Ms)} ms.`
      : '';
  const lines = [
    `opaque: a verify costs ${f0(opaque.first)} µs of app CPU and one database write; a forged or unknown token costs ${f0(opaque.forged)} µs and reaches the database (${store === 'SQLite' ? 'one indexed read, no write lock' : 'one round trip: the update that claims nothing and the lookup, in one statement'}). Issuing costs ${f0(opaque.issue)} µs with its mail.${flood(opaque.flood)}`,
    `jwt: a verify costs ${f0(jwt.first)} µs of app CPU (about ${f0(verify)} µs of it the Ed25519 check) and one database write; a forged token costs ${f0(jwt.forged)} µs and never reaches the database. Issuing costs ${f0(jwt.issue)} µs with its mail.${flood(jwt.flood)}`,
  ];
  // Genuine first uses are the traffic a deployment exists for: they decide, and the
  // forged-token path and the flood are weighed after.
  const cheaper: StrategyName = opaque.first <= jwt.first ? 'opaque' : 'jwt';
  const other: StrategyName = cheaper === 'opaque' ? 'jwt' : 'opaque';
  const of = (name: StrategyName) => (name === 'opaque' ? opaque : jwt);
  const firstUse = `first use ${f0(of(cheaper).first)} vs ${f0(of(other).first)} µs`;
  let advice =
    of(cheaper).forged <= of(other).forged
      ? `Recommendation for ${store}: ${cheaper}. It costs less app CPU on every verify path measured here (${firstUse}; forged ${f0(of(cheaper).forged)} vs ${f0(of(other).forged)} µs).`
      : `Recommendation for ${store}: ${cheaper}, which costs less app CPU for genuine verifications (${firstUse}). ${other} is cheaper only for forged tokens (${f0(of(other).forged)} vs ${f0(of(cheaper).forged)} µs)${other === 'jwt' ? ', and keeps them away from the database' : ''}: prefer it if floods of bad tokens are what you expect.`;
  if (cheaper === 'opaque') {
    advice += ' Choose jwt anyway if third parties must check tokens against the JWKS.';
  }
  const floodKeeps = (f: FloodResult | undefined) => f?.successRate ?? 1;
  if (floodKeeps(of(other).flood) > floodKeeps(of(cheaper).flood) + 0.01) {
    advice += ` Under the flood, ${other} kept more legitimate verifications succeeding; weigh that if floods are your concern.`;
  }
  if (configured && configured !== cheaper) {
    advice += ` You are configured for ${configured}.`;
  }
  if (results.info.quick) {
    advice +=
      ' (A --quick run: its figures are only indicative; run without --quick before deciding.)';
  }
  return [...lines, advice].join('\n\n');
}

/** The chart: server CPU µs per request by scenario, one bar each, hello marked. */
export function renderSvg(results: BenchResults): string {
  const bars = results.http.scenarios.map((s) => ({
    label:
      s.server === 'hello'
        ? s.scenario
        : `${s.server}: ${s.scenario.replace('verify ', '')}${s.delivery?.drained ? ' (+ mail)' : ''}`,
    value: chartCpu(s),
    // Issue bars split: the HTTP call solid, the delivery of its mail paler after it.
    solid: s.delivery?.drained ? s.delivery.requestPathCpuUs : chartCpu(s),
    colour: s.strategy === 'jwt' ? '#d97706' : s.strategy === 'opaque' ? '#2563eb' : '#6b7280',
  }));
  const hello = helloCpu(results);
  const labelW = 270;
  const plotW = 400;
  const barH = 16;
  const gap = 6;
  const top = 64;
  const height = top + bars.length * (barH + gap) + 30;
  const width = labelW + plotW + 230;
  const max = Math.max(...bars.map((b) => b.value), 1) * 1.05;
  const x = (v: number) => labelW + (v / max) * plotW;
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-labelledby="chart-title">`,
    '<title id="chart-title">mailproof: server CPU per request by scenario, as multiples of a bare Fastify hello-world</title>',
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Server CPU per request (µs, user + system), ${esc(results.info.date.slice(0, 10))}</text>`,
    `<text x="10" y="36" fill="#444">hello = 1×; grey: hello and floors (bare Fastify, unavoidable work only); blue opaque, orange jwt; pale: an issue's mail</text>`,
    `<text x="10" y="52" fill="#444">${results.settings.connections} connections; ${esc(results.info.machine)}</text>`,
  ];
  bars.forEach((bar, i) => {
    const y = top + i * (barH + gap);
    parts.push(
      `<text x="${labelW - 8}" y="${y + barH - 4}" text-anchor="end">${esc(bar.label)}</text>`,
      `<rect x="${labelW}" y="${y}" width="${Math.max(1, x(bar.value) - labelW).toFixed(1)}" height="${barH}" fill="${bar.colour}" fill-opacity="0.35"/>`,
      `<rect x="${labelW}" y="${y}" width="${Math.max(1, x(bar.solid) - labelW).toFixed(1)}" height="${barH}" fill="${bar.colour}"/>`,
      `<text x="${(x(bar.value) + 6).toFixed(1)}" y="${y + barH - 4}">${f0(bar.value)} µs (${ratio(bar.value, hello)})${bar.solid < bar.value ? `, HTTP call ${f0(bar.solid)}` : ''}</text>`,
    );
  });
  if (Number.isFinite(hello)) {
    const hx = x(hello).toFixed(1);
    parts.push(
      `<line x1="${hx}" y1="${top - 4}" x2="${hx}" y2="${height - 24}" stroke="#111" stroke-dasharray="3 3"/>`,
      `<text x="${hx}" y="${height - 10}" text-anchor="middle" fill="#111">hello ${f0(hello)} µs</text>`,
    );
  }
  parts.push('</svg>', '');
  return parts.join('\n');
}

/**
 * RESULTS.md: machine, versions, date, every figure, ratios, targets, and a recommendation
 * per store (`configured`: the user's strategy, for `mailproof bench`).
 */
export function renderMarkdown(
  results: BenchResults,
  chartFile: string | null,
  configured?: StrategyName,
): string {
  const { info } = results;
  const stores = [...new Set(results.micro.lifecycle.map((l) => l.store))];
  return [
    '# mailproof benchmark results',
    '',
    `Written by \`${info.command}\` on ${info.date}, commit ${info.commit}, in ${f0(info.durationS)} s.`,
    'Every ratio is to a baseline measured in the same run, on the same machine.',
    '',
    `- Machine: ${info.machine}`,
    `- Versions: ${Object.entries(info.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    ...(info.postgresSkipped ? [`- PostgreSQL skipped: ${info.postgresSkipped}`] : []),
    `- Cores: ${info.cores}`,
    '- Servers: plain node on the compiled code (no tsx), logs silent (at `info` Fastify writes',
    '  two lines per request, which costs more), rate limits and automatic suspension raised out',
    '  of reach (their checks still run), no Redis; mail goes to an SMTP sink in the bench process.',
    ...(info.quick
      ? [
          '',
          '**A --quick smoke run: runs of a fraction of a second, cold JIT. The figures only show',
          'that every path works; they are not comparable with a full run.**',
        ]
      : []),
    '',
    ...(chartFile ? [`![Server CPU per request by scenario](${chartFile})`, ''] : []),
    verdictSection(results),
    '',
    httpSection(results),
    '',
    floodSection(results.http.floods, results.settings),
    '',
    microSection(results.micro),
    '',
    '## What this means',
    '',
    ...stores.flatMap((store) => [
      `### ${store}`,
      '',
      recommendation(results, store, configured),
      '',
    ]),
  ].join('\n');
}
