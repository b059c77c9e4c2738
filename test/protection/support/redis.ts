import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { connectRedis, type RedisClientOptions } from '../../../src/protection/redis.js';

/** The Redis the tests use; every test works under a key prefix of its own. */
export const redisUrl = process.env.MAILPROOF_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether Redis tests can run. Without a server they are skipped with the reason printed,
 * except under `CI=true`, where a missing server fails the run instead.
 */
export async function redisAvailable(): Promise<boolean> {
  try {
    const client = await connectRedis(redisUrl, { connectTimeoutMs: 2000 });
    await client.quit();
    return true;
  } catch (error) {
    const reason = `Redis at ${new URL(redisUrl).host} unreachable (${String(error)}); set MAILPROOF_TEST_REDIS_URL`;
    if (process.env.CI === 'true') throw new Error(reason, { cause: error });
    console.warn(`Skipping Redis tests: ${reason}`);
    return false;
  }
}

/** A unique key prefix for one test. */
function uniquePrefix(): string {
  return `mailproof-test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix`. */
async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Clients used by a test, closed (and the prefix's keys deleted) by `cleanup`. */
export class RedisClients {
  readonly prefix = uniquePrefix();
  readonly #clients: Redis[] = [];
  #reachedTestRedis = false;

  /**
   * A client connected to the test Redis, directly or through `url` (a proxy to it), with
   * the options given.
   */
  async open(url = redisUrl, options: RedisClientOptions = { connectTimeoutMs: 2000 }) {
    this.#reachedTestRedis = true;
    return this.track(await connectRedis(url, options));
  }

  /** Closes `client` on cleanup. */
  track(client: Redis): Redis {
    this.#clients.push(client);
    return client;
  }

  /** Closes every client, and deletes the prefix's keys when the test Redis was used. */
  async cleanup(): Promise<void> {
    for (const client of this.#clients.splice(0)) client.disconnect();
    if (!this.#reachedTestRedis) return;
    const cleaner = await connectRedis(redisUrl, { connectTimeoutMs: 2000 });
    await deleteKeys(cleaner, this.prefix);
    cleaner.disconnect();
  }
}

/** A TCP server that accepts connections and never answers: a hung Redis. */
export async function blackHole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return listening(server, () => {
    for (const socket of sockets) socket.destroy();
  });
}

/**
 * A TCP proxy to the test Redis that can misbehave: from `freeze()` on, it keeps every
 * connection open and forwards nothing (a Redis that stopped answering mid-flight); from
 * `cut()` on, it drops every connection and every new one (a Redis that went away), until
 * `restore()`.
 */
export async function faultyProxy(): Promise<{
  url: string;
  freeze(): void;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}> {
  const target = new URL(redisUrl);
  const sockets = new Set<Socket>();
  let mode: 'forward' | 'freeze' | 'cut' = 'forward';
  const server = createServer((client) => {
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.on('data', (data) => {
      if (mode === 'forward') upstream.write(data);
    });
    upstream.on('data', (data) => {
      if (mode === 'forward') client.write(data);
    });
  });
  const destroyAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  const handle = await listening(server, destroyAll);
  return {
    ...handle,
    freeze: () => {
      mode = 'freeze';
    },
    cut: () => {
      mode = 'cut';
      destroyAll();
    },
    restore: () => {
      mode = 'forward';
    },
  };
}

async function listening(
  server: Server,
  destroyAll: () => void,
): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        destroyAll();
        server.close(() => resolve());
      }),
  };
}
