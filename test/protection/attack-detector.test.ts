/**
 * The attack detector over memory and Redis counters, with a frozen clock: normal traffic
 * never triggers, floods do, counts age out, and a trigger is not repeated on the same counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ATTACK_DETECTOR_DEFAULTS,
  AttackDetector,
  type AttackDetectorOptions,
  type AttackTrigger,
} from '../../src/protection/attack-detector.js';
import { RedisWindowCounter } from '../../src/protection/redis-window-counter.js';
import { MemoryWindowCounter, type WindowCounter } from '../../src/protection/window-counter.js';
import { FrozenClock } from '../support/clock.js';
import { RedisClients, redisAvailable } from './support/redis.js';

const redisUp = await redisAvailable();

const SECOND = 1000;
const MINUTE = 60 * SECOND;

interface DetectorKind {
  name: 'memory' | 'redis';
  skip: boolean;
  /** A counter of this kind (Redis: all counters of one test share the test's prefix). */
  counter(): Promise<WindowCounter>;
  cleanup(): Promise<void>;
}

function memoryKind(): DetectorKind {
  return {
    name: 'memory',
    skip: false,
    counter: async () => new MemoryWindowCounter(),
    cleanup: async () => {},
  };
}

function redisKind(): DetectorKind {
  let clients = new RedisClients();
  return {
    name: 'redis',
    skip: !redisUp,
    counter: async () =>
      new RedisWindowCounter({ redis: await clients.open(), keyPrefix: clients.prefix }),
    cleanup: async () => {
      await clients.cleanup();
      clients = new RedisClients();
    },
  };
}

describe.each([memoryKind(), redisKind()])('attack detector over $name', (kind) => {
  afterEach(() => kind.cleanup());

  async function setup(options: Partial<AttackDetectorOptions> = {}) {
    const clock = new FrozenClock();
    const triggers: AttackTrigger[] = [];
    const errors: unknown[] = [];
    const detector = new AttackDetector({
      counter: await kind.counter(),
      clock,
      onTrigger: (trigger) => triggers.push(trigger),
      onError: (error) => errors.push(error),
      ...options,
    });
    return { detector, clock, triggers, errors };
  }

  describe.skipIf(kind.skip)('conformance', () => {
    it('never triggers on normal traffic: 20 issues and 5 failures a minute for 10 minutes', async () => {
      const { detector, clock, triggers, errors } = await setup();
      // 25 events a minute, spread evenly; evaluated every 10 s of simulated time.
      for (let event = 0; event < 10 * 25; event++) {
        if (event % 5 === 4) detector.recordVerifyFailed();
        else detector.recordIssued(`user${event}@example.com`);
        clock.advance(MINUTE / 25);
        if (event % 4 === 3) expect(await detector.evaluate()).toBeNull();
      }
      expect(await detector.evaluate()).toBeNull();
      expect(triggers).toEqual([]);
      expect(errors).toEqual([]);
      expect(detector.counts.issued).toBeGreaterThanOrEqual(15);
      expect(detector.counts.issued).toBeLessThanOrEqual(20);
      expect(detector.counts.verify_failed).toBeGreaterThanOrEqual(4);
    });

    it('triggers on a flood of failed verifications, once, saying why', async () => {
      const { detector, clock, triggers } = await setup();
      for (let i = 0; i < 2000; i++) {
        detector.recordVerifyFailed();
        clock.advance(25); // 2000 in 50 s
        if (i % 40 === 39 && i < 500) expect(await detector.evaluate()).toBeNull();
      }
      const trigger = await detector.evaluate();
      expect(trigger).toEqual({
        signal: 'verify_failed',
        count: 2000,
        threshold: 600,
        windowSeconds: 60,
        reason: 'automatic: 2000 failed verifications in 60 s (threshold 600)',
      });
      expect(triggers).toEqual([trigger]);
      expect(detector.suspendSeconds).toBe(300);
    });

    it('triggers on mail volume to few recipients', async () => {
      const { detector } = await setup();
      for (let i = 0; i < 350; i++) detector.recordIssued(`victim${i % 3}@example.com`);
      expect(await detector.evaluate()).toMatchObject({ signal: 'issued', count: 350 });
    });

    it('triggers on a spread of recipients below the volume threshold', async () => {
      const { detector } = await setup();
      for (let i = 0; i < 250; i++) detector.recordIssued(`target${i}@example.com`);
      const trigger = await detector.evaluate();
      expect(trigger?.signal).toBe('distinct_recipients');
      expect(trigger?.count).toBeGreaterThan(240);
      expect(detector.counts.issued).toBe(250);
    });

    it('lets counts age out of the window as the clock moves', async () => {
      const { detector, clock } = await setup();
      for (let i = 0; i < 500; i++) detector.recordVerifyFailed();
      expect(await detector.evaluate()).toBeNull();
      clock.advance(MINUTE + 10 * SECOND);
      for (let i = 0; i < 200; i++) detector.recordVerifyFailed();
      expect(await detector.evaluate()).toBeNull();
      expect(detector.counts.verify_failed).toBe(200);
      clock.advance(30 * SECOND);
      for (let i = 0; i < 400; i++) detector.recordVerifyFailed();
      expect(await detector.evaluate()).toMatchObject({ signal: 'verify_failed', count: 600 });
    });

    it('does not trigger again on the counts that caused a trigger, but does on a new flood', async () => {
      const { detector, clock, triggers } = await setup({ suspendSeconds: 30 });
      const flood = () => {
        for (let i = 0; i < 700; i++) detector.recordVerifyFailed();
      };
      flood();
      expect(await detector.evaluate()).not.toBeNull();
      for (let s = 0; s < 59; s++) {
        clock.advance(SECOND);
        expect(await detector.evaluate()).toBeNull();
      }
      clock.advance(SECOND);
      flood();
      expect(await detector.evaluate()).not.toBeNull();
      expect(triggers).toHaveLength(2);
    });

    it('follows the thresholds it is given', async () => {
      const { detector } = await setup({ thresholds: { verify_failed: 3 } });
      detector.recordVerifyFailed();
      detector.recordVerifyFailed();
      expect(await detector.evaluate()).toBeNull();
      detector.recordVerifyFailed();
      expect(await detector.evaluate()).toMatchObject({ signal: 'verify_failed', threshold: 3 });
    });
  });
});

describe.skipIf(!redisUp)('attack detector shared in Redis', () => {
  it('adds up the signals of every instance', async () => {
    const clients = new RedisClients();
    try {
      const clock = new FrozenClock();
      const make = async () =>
        new AttackDetector({
          counter: new RedisWindowCounter({
            redis: await clients.open(),
            keyPrefix: clients.prefix,
          }),
          clock,
        });
      const [one, two] = await Promise.all([make(), make()]);
      for (let i = 0; i < 400; i++) {
        one.recordVerifyFailed();
        two.recordVerifyFailed();
      }
      expect(await one.evaluate()).toBeNull(); // shares its 400, sees 400
      expect(await two.evaluate()).toMatchObject({ signal: 'verify_failed', count: 800 });
      expect((await one.evaluate())?.count).toBe(800);
    } finally {
      await clients.cleanup();
    }
  });
});

describe('attack detector settings and failures', () => {
  it('has the documented defaults', () => {
    expect(ATTACK_DETECTOR_DEFAULTS).toEqual({
      thresholds: { verify_failed: 600, issued: 300, distinct_recipients: 200 },
      suspendSeconds: 300,
    });
  });

  it.each([{ thresholds: { issued: 0 } }, { suspendSeconds: 1.5 }])('refuses %j', (options) => {
    expect(
      () =>
        new AttackDetector({
          counter: new MemoryWindowCounter(),
          clock: new FrozenClock(),
          ...options,
        }),
    ).toThrow(/whole number of at least 1/);
  });

  it('never rejects when its store fails: reports the error and triggers nothing', async () => {
    const failing: WindowCounter = {
      bucketMs: 10_000,
      windowMs: 60_000,
      add: () => Promise.reject(new Error('Redis down')),
      addDistinct: () => Promise.reject(new Error('Redis down')),
      total: () => Promise.reject(new Error('Redis down')),
      distinct: () => Promise.reject(new Error('Redis down')),
    };
    const errors: unknown[] = [];
    const detector = new AttackDetector({
      counter: failing,
      clock: new FrozenClock(),
      thresholds: { verify_failed: 1 },
      onError: (error) => errors.push(error),
    });
    detector.recordVerifyFailed();
    expect(await detector.evaluate()).toBeNull();
    expect(errors).toHaveLength(1);
  });

  it('shares one evaluation between overlapping calls', async () => {
    const triggers: AttackTrigger[] = [];
    const detector = new AttackDetector({
      counter: new MemoryWindowCounter(),
      clock: new FrozenClock(),
      thresholds: { verify_failed: 1 },
      onTrigger: (trigger) => triggers.push(trigger),
    });
    detector.recordVerifyFailed();
    const [a, b] = await Promise.all([detector.evaluate(), detector.evaluate()]);
    expect(a).toBe(b);
    expect(triggers).toHaveLength(1);
  });
});
