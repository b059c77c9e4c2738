/**
 * Per-operation cost of the lifecycle, in process: issue and verify (first use, replay,
 * forged) for each strategy and store, beside raw baselines measured in the same run.
 * A first cut of `npm run bench`; prints a Markdown table. Usage: tsx bench/lifecycle-ops.ts
 */
import { createHash, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { VerificationMailPayload } from '../src/core/mail-payload.js';
import type { Store } from '../src/core/ports.js';
import { SealedBox } from '../src/core/sealed-box.js';
import { JwtStrategy } from '../src/core/strategies/jwt.js';
import { KeyRing } from '../src/core/strategies/key-ring.js';
import { OpaqueStrategy } from '../src/core/strategies/opaque.js';
import type { StrategyName, TokenStrategy } from '../src/core/strategies/strategy.js';
import { cryptoRandom } from '../src/core/system.js';
import { Verifications } from '../src/core/verification.js';
import { openPostgresStore } from '../src/store/postgres/open-postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite/open-sqlite-store.js';

const N = Number(process.env.BENCH_N ?? 2000);
const PG_ADMIN = process.env.MAILPROOF_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Mean µs per call of `op` over `n` sequential calls (after a short warm-up). */
async function timeOp(n: number, op: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < Math.min(200, n); i++) await op(i);
  const start = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  return ((performance.now() - start) * 1000) / n;
}

function strategy(name: StrategyName): TokenStrategy {
  if (name === 'opaque') return new OpaqueStrategy({ random: cryptoRandom });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return new JwtStrategy({
    keyRing: new KeyRing([{ kid: 'k', privateKey, publicKey, createdAt: 0 }]),
    issuer: 'http://bench',
    audience: 'mailproof-verify',
    random: cryptoRandom,
  });
}

async function measure(storeName: string, store: Store, name: StrategyName, rows: string[][]) {
  const sealer = new SealedBox(randomBytes(32));
  const life = new Verifications({ store, strategy: strategy(name), sealer });
  const ids: string[] = [];
  const issue = await timeOp(N, async (i) => {
    ids.push((await life.issue({ email: `u${i}-${Math.random()}@example.com` })).id);
  });
  const tokens: string[] = [];
  for (const id of ids) {
    const [mail] = await store.listMailsFor(id);
    tokens.push(sealer.open<VerificationMailPayload>(mail!.payload!).token);
  }
  const first = await timeOp(tokens.length, (i) => life.verify(tokens[i]));
  const replay = await timeOp(N, (i) => life.verify(tokens[i % tokens.length]));
  const forgedToken =
    name === 'opaque' ? randomBytes(32).toString('base64url') : `${tokens[0]!.slice(0, -4)}AAAA`;
  const forged = await timeOp(N, () => life.verify(forgedToken));
  rows.push([
    `${name} + ${storeName}`,
    issue.toFixed(1),
    first.toFixed(1),
    replay.toFixed(1),
    forged.toFixed(1),
  ]);
}

async function main() {
  const rows: string[][] = [];
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const data = randomBytes(200);
  const signature = sign(null, data, privateKey);
  const baselines = {
    'Ed25519 sign (node:crypto)': await timeOp(N, () => sign(null, data, privateKey)),
    'Ed25519 verify (node:crypto)': await timeOp(N, () => verify(null, data, publicKey, signature)),
    'SHA-256 of a token': await timeOp(N * 10, () => createHash('sha256').update(data).digest()),
  };

  const dir = await mkdtemp(join(tmpdir(), 'mailproof-bench-'));
  for (const name of ['opaque', 'jwt'] as const) {
    const store = await openSqliteStore({ path: join(dir, `${name}.db`) });
    await measure('SQLite', store, name, rows);
    await store.close();
  }
  await rm(dir, { recursive: true, force: true });

  const admin = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
    for (const name of ['opaque', 'jwt'] as const) {
      const db = `mailproof_bench_${randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${db}`);
      const url = new URL(PG_ADMIN);
      url.pathname = `/${db}`;
      const store = await openPostgresStore({ url: url.toString() });
      await measure('PostgreSQL', store, name, rows);
      await store.close();
      await admin.query(`DROP DATABASE ${db} WITH (FORCE)`);
    }
    await admin.end();
  } catch (error) {
    console.error(`PostgreSQL skipped: ${(error as Error).message}`);
  }

  console.log(`Node ${process.version}, ${N} sequential calls each, mean µs per call\n`);
  console.log('| baseline | µs |\n| --- | --- |');
  for (const [label, us] of Object.entries(baselines)) console.log(`| ${label} | ${us.toFixed(1)} |`);
  console.log('\n| strategy + store | issue | verify first use | replay | forged |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

await main();
