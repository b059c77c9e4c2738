/** Sliding-window counters, one suite over memory and Redis; time comes from the caller. */
import { afterEach, describe, expect, it } from 'vitest';
import { RedisWindowCounter } from '../../src/protection/redis-window-counter.js';
import {
  MemoryWindowCounter,
  type WindowCounter,
  type WindowOptions,
  windowBuckets,
  windowSizes,
} from '../../src/protection/window-counter.js';
import { RedisClients, redisAvailable } from './support/redis.js';

const redisUp = await redisAvailable();

/** 10 s buckets, a 60 s window, starting on a bucket boundary. */
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const SECOND = 1000;

interface CounterKind {
  name: 'memory' | 'redis';
  skip: boolean;
  /** A fresh counter (Redis: under the test's prefix, over a client of its own). */
  open(options?: WindowOptions): Promise<WindowCounter>;
  cleanup(): Promise<void>;
}

function memoryKind(): CounterKind {
  return {
    name: 'memory',
    skip: false,
    open: async (options) => new MemoryWindowCounter(options),
    cleanup: async () => {},
  };
}

function redisKind(): CounterKind {
  let clients = new RedisClients();
  return {
    name: 'redis',
    skip: !redisUp,
    open: async (options) =>
      new RedisWindowCounter({
        ...options,
        redis: await clients.open(),
        keyPrefix: clients.prefix,
      }),
    cleanup: async () => {
      await clients.cleanup();
      clients = new RedisClients();
    },
  };
}

describe.each([memoryKind(), redisKind()])('window counter over $name', (kind) => {
  afterEach(() => kind.cleanup());

  describe.skipIf(kind.skip)('conformance', () => {
    it('sums a counter over the window and ages it out bucket by bucket', async () => {
      const counter = await kind.open();
      await counter.add('a', T0, 5); // bucket 0
      await counter.add('a', T0 + 25 * SECOND, 7); // bucket 2
      await counter.add('b', T0 + 25 * SECOND, 100);
      expect(await counter.total('a', T0 + 30 * SECOND)).toBe(12);
      expect(await counter.total('a', T0 + 59 * SECOND)).toBe(12);
      expect(await counter.total('a', T0 + 60 * SECOND)).toBe(7); // bucket 0 left
      expect(await counter.total('a', T0 + 79 * SECOND)).toBe(7);
      expect(await counter.total('a', T0 + 80 * SECOND)).toBe(0);
      expect(await counter.total('b', T0 + 30 * SECOND)).toBe(100);
      expect(await counter.total('never', T0)).toBe(0);
    });

    it('does not count what is recorded after the instant read', async () => {
      const counter = await kind.open();
      await counter.add('a', T0 + 15 * SECOND, 3);
      expect(await counter.total('a', T0 + 5 * SECOND)).toBe(0);
    });

    it('counts distinct members over the window, each once', async () => {
      const counter = await kind.open();
      const members = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => `m${from + i}`);
      await counter.addDistinct('r', T0, members(0, 100));
      await counter.addDistinct('r', T0 + 10 * SECOND, members(50, 150)); // 50 seen before
      await counter.addDistinct('r', T0 + 10 * SECOND, []);
      expect(await counter.distinct('r', T0 + 20 * SECOND)).toBeCloseTo(150, -1);
      expect(await counter.distinct('r', T0 + 65 * SECOND)).toBeCloseTo(100, -1);
      expect(await counter.distinct('r', T0 + 75 * SECOND)).toBe(0);
    });

    it('follows the bucket and window sizes it is given', async () => {
      const counter = await kind.open({ bucketMs: 1000, windowMs: 3000 });
      expect([counter.bucketMs, counter.windowMs]).toEqual([1000, 3000]);
      await counter.add('a', T0, 1);
      expect(await counter.total('a', T0 + 2999)).toBe(1);
      expect(await counter.total('a', T0 + 3000)).toBe(0);
    });
  });
});

describe.skipIf(!redisUp)('window counter shared in Redis', () => {
  it('adds up what every instance recorded', async () => {
    const clients = new RedisClients();
    try {
      const [a, b] = await Promise.all([clients.open(), clients.open()]);
      const one = new RedisWindowCounter({ redis: a, keyPrefix: clients.prefix });
      const two = new RedisWindowCounter({ redis: b, keyPrefix: clients.prefix });
      await Promise.all([one.add('x', T0, 4), two.add('x', T0 + SECOND, 6)]);
      await Promise.all([one.addDistinct('r', T0, ['p', 'q']), two.addDistinct('r', T0, ['q'])]);
      expect(await one.total('x', T0 + SECOND)).toBe(10);
      expect(await two.distinct('r', T0 + SECOND)).toBe(2);
      const ttl = await a.pttl(`${clients.prefix}window:x:${Math.floor(T0 / 10_000)}`);
      expect(ttl).toBeGreaterThan(60_000);
      expect(ttl).toBeLessThanOrEqual(70_000);
    } finally {
      await clients.cleanup();
    }
  });
});

describe('window sizes', () => {
  it('lists the buckets of a window, oldest first', () => {
    expect(windowBuckets(T0 + 5 * SECOND, 10_000, 30_000)).toEqual(
      [-2, -1, 0].map((i) => T0 / 10_000 + i),
    );
  });

  it.each([
    { bucketMs: 0 },
    { bucketMs: 1.5 },
    { windowMs: 65_000 },
    { bucketMs: 10_000, windowMs: 5000 },
  ])('refuses %j', (options) => {
    expect(() => windowSizes(options)).toThrow(/whole number of buckets/);
  });
});
