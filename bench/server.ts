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
import process from 'node:process';
import type { FastifyInstance } from 'fastify';

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

async function startHello(): Promise<{ app: FastifyInstance; handlers: Handlers }> {
  const { default: Fastify } = await import('fastify');
  // Fastify's defaults, logger off: the cheapest answer Fastify gives, the ceiling.
  const app = Fastify();
  app.get('/', async () => ({ hello: 'world' }));
  // The same, with a JSON body parsed: shows what body parsing alone costs.
  app.post('/', async () => ({ hello: 'world' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, handlers: {} };
}

async function startMailproof(): Promise<{ app: FastifyInstance; handlers: Handlers }> {
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
  const { app, handlers } = kind === 'hello' ? await startHello() : await startMailproof();

  const stop = async () => {
    await app.close();
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
