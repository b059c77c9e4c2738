/**
 * The micro part of `npm run bench` alone, printed as Markdown: per-operation cost of the
 * lifecycle in process (issue; verify first use, replay, forged, expired) for each strategy
 * and store, beside raw baselines measured in the same run. Kept for a quick look without
 * servers or autocannon. Usage: tsx bench/lifecycle-ops.ts (BENCH_N calls, default 2000).
 */
import {
  DEFAULT_PG_URL,
  postgresUnreachable,
  type ScratchDatabase,
  scratchPostgres,
  scratchSqlite,
} from './databases.js';
import { LIFECYCLE_OPS, runMicro } from './micro.js';

const calls = Number(process.env.BENCH_N ?? 2000);
const databases: ScratchDatabase[] = [await scratchSqlite()];
let pgBaseline: ScratchDatabase | null = null;
const why = await postgresUnreachable(DEFAULT_PG_URL);
if (why) console.error(`PostgreSQL skipped: ${why}`);
else {
  databases.push(await scratchPostgres(DEFAULT_PG_URL));
  pgBaseline = await scratchPostgres(DEFAULT_PG_URL);
}
try {
  const micro = await runMicro({
    calls,
    databases,
    strategies: ['opaque', 'jwt'],
    pgBaselineUrl: pgBaseline?.url ?? null,
    log: (line) => console.error(line),
  });
  console.log(
    `Node ${process.version}, ${calls} sequential calls each; CPU µs / wall µs per call\n`,
  );
  console.log('| baseline | CPU µs | wall µs |\n| --- | --- | --- |');
  for (const [name, cost] of Object.entries(micro.baselines)) {
    if (cost) console.log(`| ${name} | ${cost.cpuUs.toFixed(1)} | ${cost.wallUs.toFixed(1)} |`);
  }
  console.log(`\n| strategy + store | ${LIFECYCLE_OPS.join(' | ')} |`);
  console.log(`| --- | ${LIFECYCLE_OPS.map(() => '---').join(' | ')} |`);
  for (const row of micro.lifecycle) {
    const cells = LIFECYCLE_OPS.map((op) => {
      const cost = row.ops[op];
      return `${cost.cpuUs.toFixed(1)} / ${cost.wallUs.toFixed(1)}`;
    });
    console.log(`| ${row.strategy} + ${row.store} | ${cells.join(' | ')} |`);
  }
} finally {
  for (const database of [...databases, ...(pgBaseline ? [pgBaseline] : [])]) {
    await database.drop();
  }
}
