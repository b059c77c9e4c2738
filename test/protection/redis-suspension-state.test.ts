/** The suspend switch kept in Redis: one value for every instance, failing closed. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Suspension } from '../../src/core/ports.js';
import { createRedisClient } from '../../src/protection/redis.js';
import { RedisSuspensionState } from '../../src/protection/redis-suspension-state.js';
import { OPEN, SuspendSwitch } from '../../src/protection/suspend-switch.js';
import { FrozenClock } from '../support/clock.js';
import { RedisClients, redisAvailable } from './support/redis.js';

const redisUp = await redisAvailable();

describe.skipIf(!redisUp)('RedisSuspensionState', () => {
  let clients: RedisClients;
  beforeEach(() => {
    clients = new RedisClients();
  });
  afterEach(() => clients.cleanup());

  /** A state over a client of its own, as another instance would have. */
  async function state() {
    return new RedisSuspensionState({ redis: await clients.open(), keyPrefix: clients.prefix });
  }

  it('reads as not suspended when never written', async () => {
    expect(await (await state()).read()).toEqual(OPEN);
  });

  it('reads back what was written, until and auto included', async () => {
    const suspension: Suspension = {
      suspended: true,
      until: 1_768_478_700_000,
      reason: 'automatic: 2000 failed verifications in 60 s (threshold 600)',
      auto: true,
      since: 1_768_478_400_000,
    };
    const one = await state();
    await one.write(suspension);
    expect(await (await state()).read()).toEqual(suspension);
    await one.write(OPEN);
    expect(await one.read()).toEqual(OPEN);
  });

  it('rejects a garbled value, so the switch fails closed', async () => {
    const redis = await clients.open();
    const garbled = new RedisSuspensionState({ redis, keyPrefix: clients.prefix });
    await redis.set(`${clients.prefix}suspension`, '{"suspended":"yes"}');
    await expect(garbled.read()).rejects.toThrow(/not hold a valid suspension/);
    await redis.set(`${clients.prefix}suspension`, 'not json');
    await expect(garbled.read()).rejects.toThrow(/not hold JSON/);
  });

  it('is shared: a suspension set on one instance is read by another', async () => {
    const clock = new FrozenClock();
    const one = new SuspendSwitch({ state: await state(), clock });
    const two = new SuspendSwitch({ state: await state(), clock });
    await Promise.all([one.refresh(), two.refresh()]);
    await one.suspend({ reason: 'flood', seconds: 300, auto: true });
    expect(two.reading().kind).toBe('open'); // until its next refresh
    await two.refresh();
    expect(two.reading()).toMatchObject({
      kind: 'suspended',
      retryAfterSeconds: 300,
      suspension: { reason: 'flood', auto: true, until: clock.now() + 300_000 },
    });
    clock.advance(300_000);
    await two.refresh();
    expect(two.reading().kind).toBe('open'); // expired: lifted by itself
    expect((await (await state()).read()).until).toBe(clock.now()); // yet still shown
  });
});

describe('RedisSuspensionState without Redis', () => {
  it('makes the switch fail closed, at once', async () => {
    const redis = createRedisClient('redis://127.0.0.1:1');
    try {
      const errors: unknown[] = [];
      const suspendSwitch = new SuspendSwitch({
        state: new RedisSuspensionState({ redis }),
        clock: new FrozenClock(),
        onError: (error) => errors.push(error),
      });
      const start = performance.now();
      await suspendSwitch.refresh();
      expect(performance.now() - start).toBeLessThan(300);
      expect(suspendSwitch.reading().kind).toBe('unknown');
      expect(errors).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
  });
});
