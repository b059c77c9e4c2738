/**
 * The server under test, alone in its own process so that the CPU time and RSS it reports
 * are its own and not the load generator's. Compiled to plain JavaScript with src/ (see
 * bench/build-server.ts) and run by bench/child.ts as
 *
 *   node --expose-gc test-output/bench/build/bench/server.js hello|mailproof
 *
 * `hello` is a bare Fastify app (the ceiling); `mailproof` is the real service and app, built
 * from the environment exactly as `mailproof serve` builds them (openService + buildApp),
 * listening on PORT (0: any free port). Rate-limit switches and every other MAILPROOF_*
 * variable pass through untouched: the service reads what it knows.
 *
 * It talks to the parent over the IPC channel only: `{type: 'ready', port}` once listening,
 * then one reply `{id, value}` or `{id, error}` per request `{id, op}`. Nothing here is
 * reachable over HTTP, so the routes measured are exactly the service's.
 */
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sha256Base64url } from '../src/core/sha256.js';

/** What the parent may ask. */
export type ServerOp =
  | 'stats'
  | 'resetPeak'
  | 'gc'
  | 'pauseWorker'
  | 'resumeWorker'
  | 'outboxDepth'
  | 'stop';

/** Where the memory was when RSS peaked, bytes. */
export interface MemoryDetail {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  /** Memory of C++ objects bound to JS ones, Buffers included. */
  external: number;
}

/** A reading of the process: CPU in µs since start (user + system, all threads), bytes. */
export interface ServerStats {
  cpuUs: number;
  /** Of which in the kernel (socket writes and reads, SQLite's file I/O). */
  systemUs: number;
  /** The monotonic clock, µs: the clock of V8's CPU profiles, to cut them to a run. */
  monoUs: number;
  rss: number;
  heapUsed: number;
  /** Highest RSS seen by the 100 ms sampler since start or the last `resetPeak`. */
  peakRss: number;
  /** The breakdown at that peak. */
  peak: MemoryDetail;
  /** The same since start, never reset. */
  lifePeak: MemoryDetail;
}

/** What the server does for each op beyond the stats every kind answers. */
type Handlers = Partial<Record<ServerOp, () => Promise<unknown>>>;

const SAMPLE_MS = 100;
let peak = detail();
let lifePeak = peak;

function detail(): MemoryDetail {
  const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
  return { rss, heapTotal, heapUsed, external };
}

/** The cheap RSS read every sample; the full breakdown only when it is a new peak. */
function sample(): number {
  const rss = process.memoryUsage.rss();
  if (rss > peak.rss) peak = detail();
  if (peak.rss > lifePeak.rss) lifePeak = peak;
  return rss;
}

// Sampled rather than read from getrusage's maxrss, which cannot be reset between scenarios.
setInterval(sample, SAMPLE_MS).unref();

function stats(): ServerStats {
  const cpu = process.cpuUsage();
  const rss = sample();
  const { heapUsed } = process.memoryUsage();
  return {
    cpuUs: cpu.user + cpu.system,
    systemUs: cpu.system,
    monoUs: Number(process.hrtime.bigint() / 1000n),
    rss,
    heapUsed,
    peakRss: peak.rss,
    peak,
    lifePeak,
  };
}

/** A refusal as mailproof words it, for the floor routes. */
const REFUSAL = {
  error: { code: 'invalid_token', message: 'the token is malformed, forged or unknown' },
};

async function startHello(): Promise<{
  app: FastifyInstance;
  handlers: Handlers;
  close?: () => Promise<void>;
}> {
  const { default: Fastify } = await import('fastify');
  const { SECURITY_HEADERS } = await import('../src/http/security-headers.js');
  // Fastify's defaults, logger off: the cheapest answer Fastify gives, the ceiling.
  const app = Fastify();
  app.get('/', async () => ({ hello: 'world' }));
  // The same, with a JSON body parsed: shows what body parsing alone costs.
  app.post('/', async () => ({ hello: 'world' }));

  // Floors: bare Fastify doing only the work a scenario cannot avoid, answered with the
  // headers every mailproof answer carries. What a scenario costs beyond its floor is
  // mailproof's own (guards, lifecycle, store, metrics); the floor itself is not.
  const floor = await openFloorDatabase();
  const { publicKey, message, signature } = ed25519Forgery();
  const refuse = (reply: FastifyReply) => reply.headers(SECURITY_HEADERS).code(400).send(REFUSAL);
  const token = (body: unknown) => String((body as { token?: unknown } | null)?.token ?? '');
  // A refusal: what an unknown token costs before any lookup.
  app.post('/floor/refusal', async (_request, reply) => refuse(reply));
  // A forged jwt: one Ed25519 check that fails.
  app.post('/floor/ed25519', async (_request, reply) => {
    if (verify(null, message, publicKey, signature)) throw new Error('the forgery verified');
    return refuse(reply);
  });
  // A first use on SQLite: SHA-256 of the token, then one autocommit single-row UPDATE …
  // RETURNING in WAL mode, as mailproof's single-use claim.
  app.post('/floor/sqlite-write', async (request, reply) => {
    const row = floor.claim(sha256Base64url(token(request.body)));
    return reply.headers(SECURITY_HEADERS).send({ status: 'verified', n: row?.n ?? 0 });
  });
  // A first use on PostgreSQL: one named prepared single-row UPDATE … RETURNING, through a
  // pool of mailproof's size (only when the bench has a PostgreSQL database).
  const pgFloor = process.env.BENCH_FLOOR_PG_URL
    ? await openPgFloor(process.env.BENCH_FLOOR_PG_URL)
    : null;
  if (pgFloor) {
    app.post('/floor/pg-write', async (request, reply) => {
      const n = await pgFloor.claim(sha256Base64url(token(request.body)));
      return reply.headers(SECURITY_HEADERS).send({ status: 'verified', n });
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    handlers: {},
    close: async () => {
      await floor.close();
      await pgFloor?.close();
    },
  };
}

/** A table of 10,000 rows in the bench's scratch PostgreSQL database, and a pool to it. */
async function openPgFloor(url: string) {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await pool.query('DROP TABLE IF EXISTS bench_floor_rows');
  await pool.query('CREATE TABLE bench_floor_rows (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
  await pool.query(
    'INSERT INTO bench_floor_rows (id, n) SELECT id, 0 FROM generate_series(1, 10000) AS id',
  );
  let next = 0;
  return {
    // As the SQLite floor: the key only feeds the hash; each write takes the next row.
    claim: async (_key: string) => {
      const { rows } = await pool.query<{ n: number }>({
        name: 'floor_claim',
        text: 'UPDATE bench_floor_rows SET n = n + 1 WHERE id = $1 RETURNING n',
        values: [(next++ % 10_000) + 1],
      });
      return rows[0]?.n ?? 0;
    },
    close: () => pool.end(),
  };
}

/** An Ed25519 public key, a token-sized message and a signature of it with one bit flipped. */
function ed25519Forgery() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const message = randomBytes(300);
  const signature = sign(null, message, privateKey);
  signature[10]! ^= 1;
  return { publicKey, message, signature };
}

/** A scratch SQLite file set up as mailproof's (WAL, synchronous NORMAL), 10,000 rows. */
async function openFloorDatabase() {
  const { default: Database } = await import('better-sqlite3');
  const dir = mkdtempSync(join(tmpdir(), 'mailproof-floor-'));
  const db = new Database(join(dir, 'floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
  db.transaction(() => {
    const insert = db.prepare('INSERT INTO rows (id, n) VALUES (?, 0)');
    for (let id = 1; id <= 10_000; id++) insert.run(id);
  })();
  const update = db.prepare('UPDATE rows SET n = n + 1 WHERE id = ? RETURNING n');
  let next = 0;
  return {
    // The key only feeds the hash; rows are taken in turn so each write touches a new row.
    claim: (_key: string) => update.get((next++ % 10_000) + 1) as { n: number } | undefined,
    close: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startMailproof(): Promise<{
  app: FastifyInstance;
  handlers: Handlers;
  close?: () => Promise<void>;
}> {
  const { loadConfig } = await import('../src/config.js');
  const { buildApp } = await import('../src/http/app.js');
  const { createLogger } = await import('../src/service/logger.js');
  const { openService } = await import('../src/service/service.js');
  const config = loadConfig(process.env);
  const service = await openService(config, { logger: createLogger(config.logLevel) });
  const app = await buildApp(service);
  app.addHook('onClose', () => service.close());
  await app.listen({ port: config.port, host: config.host });
  return {
    app,
    handlers: {
      // The parent commits mails of its own while it pre-issues tokens for first-use runs;
      // the worker must not deliver them (nor spend this process's CPU on them) meanwhile.
      pauseWorker: () => service.worker.stop(),
      resumeWorker: async () => service.worker.start(),
      outboxDepth: () => service.store.outboxDepth(),
    },
  };
}

async function main(): Promise<void> {
  const kind = process.argv[2];
  if (!process.send) throw new Error('bench/server.ts runs as a child with an IPC channel');
  if (kind !== 'hello' && kind !== 'mailproof') throw new Error('usage: server.ts hello|mailproof');
  const { app, handlers, close } = kind === 'hello' ? await startHello() : await startMailproof();

  const stop = async () => {
    await app.close();
    await close?.();
    // A normal exit, so that --cpu-prof writes its profile.
    process.exit(0);
  };
  const answer = async (op: ServerOp): Promise<unknown> => {
    switch (op) {
      case 'stats':
        return stats();
      case 'resetPeak':
        peak = detail();
        return stats();
      case 'gc': {
        // Only with --expose-gc: a diagnostic of what RSS the heap could give back.
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        return stats();
      }
      case 'stop':
        setImmediate(() => void stop());
        return null;
      default: {
        const handler = handlers[op];
        if (!handler) throw new Error(`${kind} server: no op ${op}`);
        return handler();
      }
    }
  };
  process.on('message', (message: { id: number; op: ServerOp }) => {
    answer(message.op).then(
      (value) => process.send?.({ id: message.id, value: value ?? null }),
      (error: unknown) => process.send?.({ id: message.id, error: String(error) }),
    );
  });
  // An orphaned server would hold its port and skew the next run's CPU.
  process.on('disconnect', () => void stop());

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send({ type: 'ready', port });
}

main().catch((error: unknown) => {
  console.error(`bench server: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
