import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { ConfigError, MailproofError } from '../core/errors.js';
import { prepareDataDir } from '../service/service.js';
import { openStore, storeOptions } from '../store/open-store.js';

/** The most workers `serve --workers` starts: more than the cores of any one machine here. */
export const MAX_WORKERS = 64;

/** A worker's first restart waits this long; each further death in a row doubles it. */
const RESTART_BASE_MS = 200;
/** No restart waits longer than this. */
const RESTART_MAX_MS = 30_000;
/** A death this long after the previous one starts a new streak (the first delay again). */
const STREAK_RESET_MS = 60_000;
/** Workers still running this long after a stop signal are killed. */
const STOP_GRACE_MS = 30_000;

/**
 * The value of `--workers`: a whole number from 1 to {@link MAX_WORKERS}; unset is 1. Throws
 * one line naming `--workers` otherwise.
 */
export function parseWorkers(value: string | undefined): number {
  if (value === undefined) return 1;
  const text = value.trim();
  const count = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) {
    throw new Error(
      `--workers: expected a whole number from 1 to ${MAX_WORKERS}, got ${JSON.stringify(value)}`,
    );
  }
  return count;
}

/** `http://host:port`, as the service prints where it listens. */
export function listenUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The primary of `serve --workers N`: prepares what the workers share (data-dir secrets, the
 * migrated schema), checks the database and Redis once so a bad setting stops the start with
 * one line, then forks N workers that each run the ordinary serve path on the same port (the
 * cluster module shares the listening socket and hands connections round-robin).
 *
 * A worker that exits while serving (crash, kill, out of memory) is replaced after a backoff:
 * 200 ms, doubling while exits follow each other within a minute, at most 30 s, so a worker
 * that cannot start again (its database gone) is retried slowly instead of in a tight loop. A worker that dies before all of them
 * listened is a failed start: the others are stopped and the primary exits 1. On SIGTERM or
 * SIGINT every worker is told to stop (each drains its requests in flight and its outbox
 * worker), and the primary exits 0 once all have exited cleanly.
 */
export async function runClusterPrimary(
  config: Config,
  logger: Logger,
  size: number,
): Promise<void> {
  await prepareDataDir(config, logger);
  await checkDependencies(config, logger);
  if (!config.redisUrl) {
    logger.warn(
      { workers: size },
      'no MAILPROOF_REDIS_URL: each worker keeps its own rate-limit and attack counters, so the limits apply per worker (set MAILPROOF_REDIS_URL to share them)',
    );
  }
  if (!config.smtpUrl) {
    logger.warn(
      { workers: size },
      'no MAILPROOF_SMTP_URL: each worker has its own embedded catcher, so /dev/inbox shows only the mails of the worker that answers',
    );
  }

  const live = new Map<number, Worker>();
  const listening = new Set<number>();
  const restartTimers = new Set<NodeJS.Timeout>();
  let started = false;
  let stopping = false;
  let failed = false;
  let streak = 0;
  let lastDeathAt = 0;

  const fork = () => {
    const worker = cluster.fork();
    live.set(worker.id, worker);
    // An IPC error (a worker gone mid-message) must not take the primary down.
    worker.on('error', (error) => logger.warn({ err: error, worker: worker.id }, 'worker error'));
    return worker;
  };

  const finish = () => {
    if (failed) logger.error('stopped: not every worker stopped cleanly');
    else logger.info('stopped');
    process.exit(failed ? 1 : 0);
  };

  const stopAll = () => {
    stopping = true;
    for (const timer of restartTimers) clearTimeout(timer);
    restartTimers.clear();
    if (live.size === 0) {
      finish();
      return;
    }
    for (const worker of live.values()) signal(worker, 'SIGTERM');
    setTimeout(() => {
      failed = true;
      logger.error(
        { workers: [...live.values()].map((worker) => worker.process.pid) },
        `workers still running ${STOP_GRACE_MS / 1000} s after the stop: killing them`,
      );
      for (const worker of live.values()) signal(worker, 'SIGKILL');
    }, STOP_GRACE_MS).unref();
  };

  // Each worker says so once its HTTP server listens. Not the cluster's 'listening' event:
  // that one fires for every server a worker opens (the embedded SMTP catcher too).
  cluster.on('message', (worker, message: unknown) => {
    const port = listeningPort(message);
    if (port === null || !live.has(worker.id) || listening.has(worker.id)) return;
    listening.add(worker.id);
    if (started) {
      logger.info({ worker: worker.id, workerPid: worker.process.pid }, 'worker listening again');
      return;
    }
    if (listening.size < size || stopping) return;
    started = true;
    const url = listenUrl(config.host, port);
    logger.info(
      {
        url,
        workers: size,
        strategy: config.strategy,
        database: config.databaseUrl.split(':')[0],
        mail: config.smtpUrl ? 'smtp' : 'embedded catcher per worker',
      },
      `mailproof listening on ${url} with ${size} workers`,
    );
  });

  cluster.on('exit', (worker, code, signalName) => {
    if (!live.delete(worker.id)) return;
    listening.delete(worker.id);
    const fields = { worker: worker.id, workerPid: worker.process.pid, code, signal: signalName };
    if (stopping) {
      const clean = code === 0 || signalName === 'SIGTERM' || signalName === 'SIGINT';
      if (!clean) {
        failed = true;
        logger.error(fields, 'worker did not stop cleanly');
      }
      if (live.size === 0) finish();
      return;
    }
    if (!started) {
      failed = true;
      logger.error(fields, 'a worker could not start: stopping the others');
      stopAll();
      return;
    }
    const now = Date.now();
    streak = now - lastDeathAt > STREAK_RESET_MS ? 1 : streak + 1;
    lastDeathAt = now;
    const delay = Math.min(RESTART_BASE_MS * 2 ** (streak - 1), RESTART_MAX_MS);
    logger.error(
      { ...fields, restartInMs: delay },
      `worker ${worker.id} exited unexpectedly (${signalName ? `signal ${signalName}` : `code ${code}`}): restarting it in ${delay} ms`,
    );
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (!stopping) fork();
    }, delay);
    restartTimers.add(timer);
  });

  const onSignal = (name: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal: name }, 'already stopping: workers are finishing requests in flight');
      return;
    }
    logger.info(
      { signal: name, workers: live.size },
      'stopping: workers finish requests in flight',
    );
    stopAll();
  };
  // `on`, not `once`: a repeated signal must not kill the primary halfway through the drain.
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  for (let i = 0; i < size; i++) fork();
}

/** What a worker sends its primary once its HTTP server listens. */
export interface ListeningMessage {
  mailproof: 'listening';
  port: number;
}

/** Tells the primary, if there is one, that this worker's HTTP server listens on `port`. */
export function reportListening(port: number): void {
  const message: ListeningMessage = { mailproof: 'listening', port };
  process.send?.(message);
}

function listeningPort(message: unknown): number | null {
  if (typeof message !== 'object' || message === null) return null;
  const { mailproof, port } = message as Partial<ListeningMessage>;
  return mailproof === 'listening' && typeof port === 'number' ? port : null;
}

/** Sends a signal to a worker that may have exited already. */
function signal(worker: Worker, name: NodeJS.Signals): void {
  try {
    worker.process.kill(name);
  } catch {
    // Gone already: its 'exit' event does the bookkeeping.
  }
}

/**
 * Opens (and migrates) the database and connects to Redis once, in the primary: a bad URL
 * then stops the start with one line instead of one per worker, and the workers do not race
 * to migrate a fresh schema.
 */
async function checkDependencies(config: Config, logger: Logger): Promise<void> {
  if (!config.waitForDatabase) {
    try {
      const store = await openStore(config.databaseUrl, storeOptions(config));
      await store.close();
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      const detail =
        error instanceof MailproofError || error instanceof Error ? error.message : String(error);
      throw new ConfigError('MAILPROOF_DATABASE_URL', `cannot open the database: ${detail}`, {
        cause: error,
      });
    }
  }
  if (config.redisUrl) {
    const { connectRedis } = await import('../protection/redis.js');
    const redis = await connectRedis(config.redisUrl, {
      logger: logger.child({ component: 'redis' }),
    });
    redis.disconnect();
  }
}
