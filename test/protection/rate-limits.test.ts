/**
 * The rate limits, as one suite run over in-process counters and over Redis; then what only
 * Redis has: limits shared by instances, and the store-failure table.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import {
  type CountedLimit,
  type LimitDecision,
  type LimitName,
  parseRateLimitSpec,
  RATE_LIMIT_DEFAULTS,
  type RateLimitSettings,
  RateLimits,
  STORE_FAILURE_POLICY,
} from '../../src/protection/rate-limits.js';
import { createRedisClient } from '../../src/protection/redis.js';
import { blackHole, faultyProxy, RedisClients, redisAvailable } from './support/redis.js';

const redisUp = await redisAvailable();

/** Small numbers so each test stays short. */
const SMALL: RateLimitSettings = {
  client: { points: 3, durationSeconds: 60 },
  issue_client: { points: 4, durationSeconds: 600 },
  email: { points: 5, durationSeconds: 3600 },
  verify_failures: { points: 3, durationSeconds: 600 },
};

const ALLOWED: LimitDecision = { allowed: true };

async function decisions(limits: RateLimits, limit: CountedLimit, key: string, count: number) {
  const out: LimitDecision[] = [];
  for (let i = 0; i < count; i++) out.push(await limits.check(limit, key));
  return out;
}

interface LimitsKind {
  name: 'memory' | 'redis';
  skip: boolean;
  /** A fresh `RateLimits` (Redis: under the test's own prefix). */
  open(settings: Partial<RateLimitSettings>): Promise<RateLimits>;
  cleanup(): Promise<void>;
}

function memoryKind(): LimitsKind {
  return {
    name: 'memory',
    skip: false,
    open: async (settings) => new RateLimits({ settings }),
    cleanup: async () => {},
  };
}

function redisKind(): LimitsKind {
  let clients = new RedisClients();
  return {
    name: 'redis',
    skip: !redisUp,
    open: async (settings) =>
      new RateLimits({ settings, redis: await clients.open(), keyPrefix: clients.prefix }),
    cleanup: async () => {
      await clients.cleanup();
      clients = new RedisClients();
    },
  };
}

describe.each([memoryKind(), redisKind()])('rate limits over $name', (kind) => {
  afterEach(() => kind.cleanup());

  describe.skipIf(kind.skip)('conformance', () => {
    it('allows the points of a limit, then refuses with the time left in its window', async () => {
      const limits = await kind.open(SMALL);
      const seen = await decisions(limits, 'client', '203.0.113.7', 5);
      expect(seen.slice(0, 3)).toEqual([ALLOWED, ALLOWED, ALLOWED]);
      for (const refusal of seen.slice(3)) {
        expect(refusal.allowed).toBe(false);
        if (!refusal.allowed) {
          expect(refusal.retryAfterSeconds).toBeGreaterThanOrEqual(59);
          expect(refusal.retryAfterSeconds).toBeLessThanOrEqual(60);
        }
      }
      expect(await limits.check('client', '203.0.113.8')).toEqual(ALLOWED);
    });

    it('keeps each limit and each key apart', async () => {
      const limits = await kind.open(SMALL);
      await decisions(limits, 'client', 'k', 3);
      expect((await limits.check('client', 'k')).allowed).toBe(false);
      expect(await decisions(limits, 'issue_client', 'k', 4)).toEqual(Array(4).fill(ALLOWED));
      const issueRefusal = await limits.check('issue_client', 'k');
      expect(issueRefusal).toEqual({ allowed: false, retryAfterSeconds: 600 });
      expect(await decisions(limits, 'email', 'k', 5)).toEqual(Array(5).fill(ALLOWED));
      expect(await limits.check('email', 'k')).toEqual({ allowed: false, retryAfterSeconds: 3600 });
    });

    it('counts every email key the same: the API has no notion of a known address', async () => {
      expectTypeOf<RateLimits['check']>().parameters.toEqualTypeOf<[CountedLimit, string]>();
      const limits = await kind.open({});
      const known = await decisions(limits, 'email', 'alice@example.com', 6);
      const unknown = await decisions(limits, 'email', 'nobody-at-all@example.com', 6);
      expect(unknown).toEqual(known);
      expect(known.filter((d) => d.allowed)).toHaveLength(RATE_LIMIT_DEFAULTS.email.points);
    });

    it('allows exactly 5 of 10 concurrent requests for one email (default limit)', async () => {
      const limits = await kind.open({});
      const seen = await Promise.all(
        Array.from({ length: 10 }, () => limits.check('email', 'bob@example.com')),
      );
      expect(seen.filter((d) => d.allowed)).toHaveLength(5);
    });

    it('refuses verifications from an address once its failures reach the limit', async () => {
      const limits = await kind.open(SMALL);
      expect(await limits.isBlocked('198.51.100.1')).toEqual(ALLOWED);
      expect(await limits.recordFailure('198.51.100.1')).toEqual(ALLOWED);
      expect(await limits.recordFailure('198.51.100.1')).toEqual(ALLOWED);
      expect(await limits.isBlocked('198.51.100.1')).toEqual(ALLOWED);
      const third = await limits.recordFailure('198.51.100.1');
      expect(third).toEqual({ allowed: false, retryAfterSeconds: 600 });
      expect(await limits.isBlocked('198.51.100.1')).toEqual(third);
      expect(await limits.isBlocked('198.51.100.2')).toEqual(ALLOWED);
      // Checking does not count: still blocked for the same reason, not longer.
      expect(await limits.isBlocked('198.51.100.1')).toEqual(third);
    });

    it('lifts a limit and a verify block when the window has passed', async () => {
      const limits = await kind.open({
        client: { points: 1, durationSeconds: 1 },
        verify_failures: { points: 1, durationSeconds: 1 },
      });
      expect(await limits.check('client', 'a')).toEqual(ALLOWED);
      expect(await limits.check('client', 'a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
      await limits.recordFailure('a');
      expect((await limits.isBlocked('a')).allowed).toBe(false);
      await sleep(1100);
      expect(await limits.check('client', 'a')).toEqual(ALLOWED);
      expect(await limits.isBlocked('a')).toEqual(ALLOWED);
    });
  });
});

describe.skipIf(!redisUp)('rate limits shared in Redis', () => {
  let clients: RedisClients;
  beforeEach(() => {
    clients = new RedisClients();
  });
  afterEach(() => clients.cleanup());

  it('holds the per-email limit across instances: exactly 5 of 10 concurrent', async () => {
    const [a, b] = await Promise.all([clients.open(), clients.open()]);
    const one = new RateLimits({ redis: a, keyPrefix: clients.prefix });
    const two = new RateLimits({ redis: b, keyPrefix: clients.prefix });
    const seen = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? one : two).check('email', 'carol@example.com')),
    );
    expect(seen.filter((d) => d.allowed)).toHaveLength(5);
    expect(await one.check('email', 'carol@example.com')).toMatchObject({ allowed: false });
  });

  it('stores no client address or email in clear', async () => {
    const redis = await clients.open();
    const limits = new RateLimits({ redis, keyPrefix: clients.prefix });
    await limits.check('email', 'dave@example.com');
    await limits.check('client', '192.0.2.44');
    await limits.recordFailure('192.0.2.44');
    const keys = await redis.keys(`${clients.prefix}*`);
    expect(keys).toHaveLength(3);
    expect(keys.join(' ')).not.toMatch(/dave|example|192\.0\.2/);
  });
});

/** Servers a test started, stopped after it. */
const closers: (() => Promise<void>)[] = [];

/** A Redis that fails in one of three ways: the client `RateLimits` is given. */
interface Outage {
  name: string;
  skip: boolean;
  start(clients: RedisClients): Promise<Redis>;
}

const outages: Outage[] = [
  {
    name: 'nothing listening (redis://127.0.0.1:1)',
    skip: false,
    start: async (clients) => clients.track(createRedisClient('redis://127.0.0.1:1')),
  },
  {
    name: 'a server that accepts connections and never answers',
    skip: false,
    start: async (clients) => {
      const hole = await blackHole();
      closers.push(hole.close);
      return clients.track(createRedisClient(hole.url));
    },
  },
  {
    name: 'a Redis that stops answering once connected',
    skip: !redisUp,
    start: async (clients) => {
      const proxy = await faultyProxy();
      closers.push(proxy.close);
      const redis = await clients.open(proxy.url);
      proxy.freeze();
      return redis;
    },
  },
];

describe.each(outages)('when the store fails: $name', (outage) => {
  let clients: RedisClients;
  beforeEach(() => {
    clients = new RedisClients();
  });
  afterEach(async () => {
    await clients.cleanup();
    for (const close of closers.splice(0)) await close();
  });

  /** Runs `decide` and checks that it came back within 300 ms. */
  async function timed<T>(decide: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const result = await decide();
    expect(performance.now() - start).toBeLessThan(300);
    return result;
  }

  it.skipIf(outage.skip).each(Object.keys(STORE_FAILURE_POLICY) as LimitName[])(
    '%s decides per instance (STORE_FAILURE_POLICY), within 300 ms',
    async (limit) => {
      expect(STORE_FAILURE_POLICY[limit].mode).toBe('per_instance');
      const redis = await outage.start(clients);
      const failures: LimitName[] = [];
      const limits = new RateLimits({
        settings: SMALL,
        redis,
        keyPrefix: clients.prefix,
        onStoreFailure: (name) => failures.push(name),
      });
      const points = SMALL[limit].points;
      if (limit === 'verify_failures') {
        expect(await timed(() => limits.isBlocked('x'))).toEqual(ALLOWED);
        for (let i = 1; i < points; i++) {
          expect(await timed(() => limits.recordFailure('x'))).toEqual(ALLOWED);
        }
        expect((await timed(() => limits.recordFailure('x'))).allowed).toBe(false);
        expect((await timed(() => limits.isBlocked('x'))).allowed).toBe(false);
      } else {
        for (let i = 0; i < points; i++) {
          expect(await timed(() => limits.check(limit, 'x'))).toEqual(ALLOWED);
        }
        expect((await timed(() => limits.check(limit, 'x'))).allowed).toBe(false);
      }
      expect(new Set(failures)).toEqual(new Set([limit]));
    },
  );
});

describe.skipIf(!redisUp)('a decision deadline of its own', () => {
  it('decides within 300 ms even over a client without a command timeout', async () => {
    const clients = new RedisClients();
    const proxy = await faultyProxy();
    try {
      const redis = await clients.open(proxy.url, { commandTimeoutMs: 10_000 });
      const limits = new RateLimits({ redis, keyPrefix: clients.prefix, timeoutMs: 200 });
      expect(await limits.check('client', 'y')).toEqual(ALLOWED);
      proxy.freeze();
      const start = performance.now();
      expect(await limits.check('client', 'y')).toEqual(ALLOWED); // decided per instance
      expect(performance.now() - start).toBeLessThan(300);
    } finally {
      await clients.cleanup();
      await proxy.close();
    }
  });
});

describe('settings', () => {
  it('has the documented defaults', () => {
    expect(RATE_LIMIT_DEFAULTS).toEqual({
      client: { points: 300, durationSeconds: 60 },
      issue_client: { points: 30, durationSeconds: 600 },
      email: { points: 5, durationSeconds: 3600 },
      verify_failures: { points: 20, durationSeconds: 600 },
    });
  });

  it('parses POINTS/SECONDS', () => {
    expect(parseRateLimitSpec('5/3600')).toEqual({ points: 5, durationSeconds: 3600 });
    expect(parseRateLimitSpec(' 30 / 600 ')).toEqual({ points: 30, durationSeconds: 600 });
  });

  it.each(['', '5', '5/', '/60', 'five/60', '1.5/60', '-1/60', '0/60', '5/0', '5/60/2'])(
    'rejects %j with a clear message',
    (text) => {
      expect(() => parseRateLimitSpec(text)).toThrow(/POINTS\/SECONDS|whole numbers of at least 1/);
    },
  );

  it('refuses settings that are not whole numbers', () => {
    expect(
      () => new RateLimits({ settings: { email: { points: 5, durationSeconds: 0.5 } } }),
    ).toThrow(/rate limit email/);
  });
});
