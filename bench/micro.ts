/**
 * Micro benchmarks, in process, one call at a time: the lifecycle's issue and verify (first
 * use, replay, forged, expired) for each strategy and store, beside the raw operations they
 * are made of, measured in the same run: Ed25519 sign and verify, SHA-256, and a bare
 * prepared SQLite (and PostgreSQL) lookup and single-use UPDATE … RETURNING.
 */
import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { VerificationMailPayload } from '../src/core/mail-payload.js';
import type { Clock, Store } from '../src/core/ports.js';
import { SealedBox } from '../src/core/sealed-box.js';
import { JwtStrategy } from '../src/core/strategies/jwt.js';
import { KeyRing } from '../src/core/strategies/key-ring.js';
import { OpaqueStrategy } from '../src/core/strategies/opaque.js';
import type { StrategyName, TokenStrategy } from '../src/core/strategies/strategy.js';
import { cryptoRandom } from '../src/core/system.js';
import { Verifications } from '../src/core/verification.js';
import { openStore } from '../src/store/open-store.js';
import { type ScratchDatabase, type StoreName, scratchSqlite } from './databases.js';

/** Mean cost of one call: wall-clock µs and CPU µs (user + system, every thread). */
export interface OpCost {
  wallUs: number;
  cpuUs: number;
}

/** The raw operations, by name. */
export interface Baselines {
  ed25519Sign: OpCost;
  ed25519Verify: OpCost;
  /** The callback form, as the jwt strategy calls it (the work runs on the libuv pool). */
  ed25519VerifyAsync: OpCost;
  sha256: OpCost;
  sqliteLookup: OpCost;
  sqliteSingleUse: OpCost;
  /** Client-side cost of one round trip to PostgreSQL; null without a server. */
  pgLookup: OpCost | null;
  pgSingleUse: OpCost | null;
}

/** The lifecycle operations measured for each strategy and store. */
export const LIFECYCLE_OPS = ['issue', 'first use', 'replay', 'forged', 'expired'] as const;
export type LifecycleOp = (typeof LIFECYCLE_OPS)[number];

/** One strategy on one store. */
export interface LifecycleCosts {
  strategy: StrategyName;
  store: StoreName;
  ops: Record<LifecycleOp, OpCost>;
}

/** Everything the micro suite measured. */
export interface MicroResults {
  /** Calls per operation on SQLite and in memory; PostgreSQL's are `pgCalls`. */
  calls: number;
  pgCalls: number;
  baselines: Baselines;
  lifecycle: LifecycleCosts[];
}

/**
 * Mean cost of `op(i)` for i in [warm, warm + n), after `warm` unmeasured calls with
 * i in [0, warm): callers that consume something per call (a token) give each call its own.
 */
export async function timeOp(
  n: number,
  op: (i: number) => unknown,
  warm = Math.min(200, n),
): Promise<OpCost> {
  for (let i = 0; i < warm; i++) await op(i);
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = warm; i < warm + n; i++) await op(i);
  const wallUs = (performance.now() - start) * 1000;
  const used = process.cpuUsage(cpu);
  return { wallUs: wallUs / n, cpuUs: (used.user + used.system) / n };
}

/** A clock the bench moves past token expiry. */
class MovableClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

function makeStrategy(name: StrategyName, keys: { privateKey: KeyObject; publicKey: KeyObject }) {
  if (name === 'opaque') return new OpaqueStrategy({ random: cryptoRandom });
  return new JwtStrategy({
    keyRing: new KeyRing([{ kid: 'bench', ...keys, createdAt: 0 }]),
    issuer: 'http://mailproof.bench',
    audience: 'mailproof-verify',
    random: cryptoRandom,
  });
}

/** A token shaped right but never issued: random for opaque, a re-signed-by-nobody JWT. */
export function forge(strategy: StrategyName, genuine: string): string {
  if (strategy === 'opaque') return randomBytes(32).toString('base64url');
  // Flip one character in the middle of the signature: header and claims stay valid, so
  // the check goes all the way to the signature, the expensive refusal.
  const at = genuine.length - 40;
  const flipped = genuine[at] === 'A' ? 'B' : 'A';
  return `${genuine.slice(0, at)}${flipped}${genuine.slice(at + 1)}`;
}

async function measureLifecycle(
  store: Store,
  storeName: StoreName,
  strategyName: StrategyName,
  strategy: TokenStrategy,
  n: number,
): Promise<LifecycleCosts> {
  const warm = Math.min(200, n);
  const clock = new MovableClock();
  const sealer = new SealedBox(randomBytes(32));
  const life = new Verifications({ store, strategy, sealer, clock, tokenTtlSeconds: 3600 });
  const run = randomBytes(4).toString('hex');
  const ids: string[] = [];
  const issue = await timeOp(
    n,
    async (i) => {
      ids.push((await life.issue({ email: `u${i}.${run}@example.com` })).id);
    },
    warm,
  );
  const tokens: string[] = [];
  for (const id of ids) {
    const [mail] = await store.listMailsFor(id);
    tokens.push(sealer.open<VerificationMailPayload>(mail!.payload!).token);
  }
  const first = await timeOp(n, (i) => life.verify(tokens[i]), warm);
  const replay = await timeOp(n, (i) => life.verify(tokens[i]), warm);
  const forged = forge(strategyName, tokens[0]!);
  const forgedCost = await timeOp(n, () => life.verify(forged), warm);
  // Two hours on: every token is past its one-hour lifetime.
  clock.offsetMs = 2 * 3600_000;
  const expired = await timeOp(n, (i) => life.verify(tokens[i]), warm);
  return {
    strategy: strategyName,
    store: storeName,
    ops: { issue, 'first use': first, replay, forged: forgedCost, expired },
  };
}

/** Tables shaped like the service's, reduced to what the single-use step touches. */
const BARE_SCHEMA = `
  CREATE TABLE verifications (id TEXT PRIMARY KEY, status TEXT NOT NULL, verified_at BIGINT);
  CREATE TABLE tokens (key TEXT PRIMARY KEY, verification_id TEXT NOT NULL, expires_at BIGINT NOT NULL);`;
const BARE_LOOKUP = 'SELECT verification_id, expires_at FROM tokens WHERE key = $1';
const BARE_SINGLE_USE = `UPDATE verifications SET status = 'verified', verified_at = $1
  WHERE id = (SELECT verification_id FROM tokens WHERE key = $2 AND expires_at > $1)
    AND status = 'pending' RETURNING *`;

function bareRows(count: number): { id: string; key: string }[] {
  return Array.from({ length: count }, () => ({
    id: randomBytes(16).toString('base64url'),
    key: randomBytes(32).toString('base64url'),
  }));
}

/** better-sqlite3 alone, set up as the service's driver sets it up (WAL, synchronous NORMAL). */
async function bareSqlite(n: number): Promise<{ lookup: OpCost; singleUse: OpCost }> {
  const scratch = await scratchSqlite();
  const db = new Database(scratch.url.slice('sqlite:'.length));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(BARE_SCHEMA);
    const warm = Math.min(200, n);
    const rows = bareRows(warm + n + 10_000);
    const insertV = db.prepare("INSERT INTO verifications VALUES (?, 'pending', NULL)");
    const insertT = db.prepare('INSERT INTO tokens VALUES (?, ?, ?)');
    const far = Date.now() + 3600_000;
    db.transaction(() => {
      for (const row of rows) {
        insertV.run(row.id);
        insertT.run(row.key, row.id, far);
      }
    })();
    const lookup = db.prepare(BARE_LOOKUP.replace('$1', '?'));
    const singleUse = db.prepare(BARE_SINGLE_USE.replace(/\$1/g, '@now').replace('$2', '@key'));
    return {
      lookup: await timeOp(n, (i) => lookup.get(rows[i]!.key), warm),
      singleUse: await timeOp(
        n,
        (i) => singleUse.get({ now: Date.now(), key: rows[i]!.key }),
        warm,
      ),
    };
  } finally {
    db.close();
    await scratch.drop();
  }
}

/** node-postgres alone: one client, named (prepared) statements, each call a round trip. */
async function barePostgres(
  url: string,
  n: number,
): Promise<{ lookup: OpCost; singleUse: OpCost }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(BARE_SCHEMA);
    const warm = Math.min(200, n);
    const rows = bareRows(warm + n);
    const far = Date.now() + 3600_000;
    await client.query(`INSERT INTO verifications SELECT unnest($1::text[]), 'pending', NULL`, [
      rows.map((r) => r.id),
    ]);
    await client.query(`INSERT INTO tokens SELECT unnest($1::text[]), unnest($2::text[]), $3`, [
      rows.map((r) => r.key),
      rows.map((r) => r.id),
      far,
    ]);
    const lookup = await timeOp(
      n,
      (i) => client.query({ name: 'lookup', text: BARE_LOOKUP, values: [rows[i]!.key] }),
      warm,
    );
    const singleUse = await timeOp(
      n,
      (i) =>
        client.query({ name: 'use', text: BARE_SINGLE_USE, values: [Date.now(), rows[i]!.key] }),
      warm,
    );
    return { lookup, singleUse };
  } finally {
    await client.end();
  }
}

/** PostgreSQL round trips take ten times longer: half the calls still give a stable mean. */
const pgCalls = (n: number) => Math.ceil(n / 2);

/** The raw operations, on `pgUrl`'s database too when given (tables are created there). */
export async function measureBaselines(n: number, pgUrl: string | null): Promise<Baselines> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // About the size of a mailproof JWT's signing input.
  const data = randomBytes(300);
  const signature = sign(null, data, privateKey);
  const token = randomBytes(32).toString('base64url');
  const sqlite = await bareSqlite(n);
  const postgres = pgUrl ? await barePostgres(pgUrl, pgCalls(n)) : null;
  return {
    ed25519Sign: await timeOp(n, () => sign(null, data, privateKey)),
    ed25519Verify: await timeOp(n, () => verify(null, data, publicKey, signature)),
    ed25519VerifyAsync: await timeOp(
      n,
      () =>
        new Promise<boolean>((done) =>
          verify(null, data, publicKey, signature, (_error, ok) => done(ok)),
        ),
    ),
    sha256: await timeOp(n * 10, () => createHash('sha256').update(token).digest('base64url')),
    sqliteLookup: sqlite.lookup,
    sqliteSingleUse: sqlite.singleUse,
    pgLookup: postgres?.lookup ?? null,
    pgSingleUse: postgres?.singleUse ?? null,
  };
}

/**
 * The whole micro suite: baselines, then each strategy on each database given (fresh,
 * migrated by the service's own migrations). `pgBaselineUrl`, when given, is a scratch
 * PostgreSQL database for the bare PostgreSQL baselines.
 */
export async function runMicro(options: {
  calls: number;
  databases: ScratchDatabase[];
  strategies: StrategyName[];
  pgBaselineUrl: string | null;
  log?: (line: string) => void;
}): Promise<MicroResults> {
  const log = options.log ?? (() => {});
  log('micro: baselines');
  const baselines = await measureBaselines(options.calls, options.pgBaselineUrl);
  const keys = generateKeyPairSync('ed25519');
  const lifecycle: LifecycleCosts[] = [];
  for (const database of options.databases) {
    for (const strategy of options.strategies) {
      log(`micro: ${strategy} + ${database.store}`);
      const store = await openStore(database.url);
      try {
        lifecycle.push(
          await measureLifecycle(
            store,
            database.store,
            strategy,
            makeStrategy(strategy, keys),
            database.store === 'PostgreSQL' ? pgCalls(options.calls) : options.calls,
          ),
        );
      } finally {
        await store.close();
      }
    }
  }
  return { calls: options.calls, pgCalls: pgCalls(options.calls), baselines, lifecycle };
}
