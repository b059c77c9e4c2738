/** The Redis client: ready at start or a ConfigError, and never a caller left waiting. */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { connectRedis, createRedisClient, type RedisLogger } from '../../src/protection/redis.js';
import { blackHole, faultyProxy, RedisClients, redisAvailable } from './support/redis.js';

const redisUp = await redisAvailable();

function recordingLogger() {
  const lines: { level: 'info' | 'warn'; message: string }[] = [];
  const logger: RedisLogger = {
    info: (_fields, message) => lines.push({ level: 'info', message }),
    warn: (_fields, message) => lines.push({ level: 'warn', message }),
  };
  return { lines, logger };
}

async function startFailure(url: string, connectTimeoutMs: number) {
  const start = performance.now();
  const error = await connectRedis(url, { connectTimeoutMs }).then(
    () => null,
    (e: unknown) => e,
  );
  return { error, elapsedMs: performance.now() - start };
}

describe('connectRedis', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it.skipIf(!redisUp)('resolves with a ready client', async () => {
    const clients = new RedisClients();
    closers.push(() => clients.cleanup());
    const client = await clients.open();
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
  });

  it('rejects with a ConfigError naming MAILPROOF_REDIS_URL when nothing listens', async () => {
    const { error, elapsedMs } = await startFailure('redis://127.0.0.1:1', 300);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('MAILPROOF_REDIS_URL');
    expect((error as ConfigError).message).toMatch(/127\.0\.0\.1:1 .*300 ms.*ECONNREFUSED/);
    expect(elapsedMs).toBeLessThan(600);
  });

  it('rejects within the timeout when the server never answers', async () => {
    const hole = await blackHole();
    closers.push(hole.close);
    const { error, elapsedMs } = await startFailure(hole.url, 300);
    expect(error).toBeInstanceOf(ConfigError);
    expect(elapsedMs).toBeLessThan(600);
  });

  it('does not print the password of the URL', async () => {
    const { error } = await startFailure('redis://user:s3cret@127.0.0.1:1', 100);
    expect(String(error)).not.toContain('s3cret');
  });
});

describe('createRedisClient', () => {
  it('fails commands at once while Redis is down, and logs the outage once', async () => {
    const { lines, logger } = recordingLogger();
    const client = createRedisClient('redis://127.0.0.1:1', { logger });
    try {
      await sleep(400); // several reconnection attempts
      const start = performance.now();
      await expect(client.get('k')).rejects.toThrow(/enableOfflineQueue/);
      expect(performance.now() - start).toBeLessThan(50);
      expect(lines).toEqual([{ level: 'warn', message: 'Redis unavailable; reconnecting' }]);
    } finally {
      client.disconnect();
    }
  });

  it.skipIf(!redisUp)('times a silent command out after commandTimeoutMs', async () => {
    const proxy = await faultyProxy();
    const client = await connectRedis(proxy.url, { commandTimeoutMs: 100 });
    try {
      proxy.freeze();
      const start = performance.now();
      await expect(client.get('k')).rejects.toThrow(/timed out/);
      expect(performance.now() - start).toBeLessThan(200);
    } finally {
      client.disconnect();
      await proxy.close();
    }
  });

  it.skipIf(!redisUp)('reconnects by itself when Redis comes back, and says so', async () => {
    const { lines, logger } = recordingLogger();
    const proxy = await faultyProxy();
    const client = await connectRedis(proxy.url, { logger });
    try {
      proxy.cut();
      await sleep(300);
      await expect(client.get('k')).rejects.toThrow();
      proxy.restore();
      await new Promise((resolve) => client.once('ready', resolve));
      expect(await client.ping()).toBe('PONG');
      expect(lines.map((line) => line.level)).toEqual(['warn', 'info']);
    } finally {
      client.disconnect();
      await proxy.close();
    }
  });
});
