import { Redis } from 'ioredis';
import { ConfigError } from '../core/errors.js';

/** The logging the Redis client needs; pino's logger fits it. */
export interface RedisLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** How patient the client is. Durations in ms. */
export interface RedisClientOptions {
  /** Time allowed to open a connection (and, at start, to be ready). Default 500. */
  connectTimeoutMs?: number;
  /** Time after which a command without a reply fails. Default 200. */
  commandTimeoutMs?: number;
  logger?: RedisLogger;
}

const silentLogger: RedisLogger = { info() {}, warn() {} };

/** Reconnection keeps going forever, but never waits longer than this between tries. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * A Redis client that never makes a caller wait on a Redis that is down or silent: commands
 * are not queued while disconnected (they fail at once), one retry at most for a command
 * caught by a dropped connection, and every command times out after `commandTimeoutMs`.
 * It reconnects in the background with a capped delay. Connection errors are logged (once
 * per outage, with the recovery), never thrown. The connection opens in the background:
 * use `connectRedis` to wait for it.
 */
export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis {
  const logger = options.logger ?? silentLogger;
  const client = new Redis(url, {
    connectTimeout: options.connectTimeoutMs ?? 500,
    commandTimeout: options.commandTimeoutMs ?? 200,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
  });
  // Without an 'error' listener, ioredis would report every failed reconnection as unhandled.
  let outage = false;
  client.on('error', (error: Error) => {
    if (outage) return;
    outage = true;
    logger.warn({ err: error, redis: redactedHost(url) }, 'Redis unavailable; reconnecting');
  });
  client.on('ready', () => {
    if (!outage) return;
    outage = false;
    logger.info({ redis: redactedHost(url) }, 'Redis available again');
  });
  return client;
}

/**
 * Opens a client as `createRedisClient` does and waits until it is ready. Throws
 * `ConfigError` naming MAILPROOF_REDIS_URL when Redis is not ready within
 * `connectTimeoutMs`, so a wrong URL stops the start with one clear line; later outages are
 * survived instead.
 */
export async function connectRedis(url: string, options: RedisClientOptions = {}): Promise<Redis> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 500;
  const client = createRedisClient(url, options);
  const seen: { error?: Error } = {};
  const remember = (error: Error) => {
    seen.error = error;
  };
  client.on('error', remember);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      timer = setTimeout(() => reject(new Error('timeout')), connectTimeoutMs);
    });
    return client;
  } catch {
    client.disconnect();
    const detail = seen.error ? `: ${seen.error.message}` : '';
    throw new ConfigError(
      'MAILPROOF_REDIS_URL',
      `Redis at ${redactedHost(url)} is not ready within ${connectTimeoutMs} ms${detail}`,
    );
  } finally {
    clearTimeout(timer);
    client.off('error', remember);
  }
}

/** host:port only: the URL may carry a password. */
function redactedHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(unparsable URL)';
  }
}
