import type { Redis } from 'ioredis';
import type { Suspension, SuspensionState } from '../core/ports.js';
import { OPEN } from './suspend-switch.js';

/**
 * The suspend switch in Redis, for every instance: one key holding the suspension as JSON,
 * written with one SET and read with one GET. No Redis expiry: the state must still show
 * `until`, and `SuspendSwitch` reads a suspension past its `until` as lifted. Errors
 * propagate, so the switch fails closed when Redis cannot be read.
 */
export class RedisSuspensionState implements SuspensionState {
  readonly #redis: Redis;
  readonly #key: string;

  /** `keyPrefix` defaults to `mailproof:`; the key is `${keyPrefix}suspension`. */
  constructor(options: { redis: Redis; keyPrefix?: string }) {
    this.#redis = options.redis;
    this.#key = `${options.keyPrefix ?? 'mailproof:'}suspension`;
  }

  /** The stored suspension; not suspended when never written. */
  async read(): Promise<Suspension> {
    const text = await this.#redis.get(this.#key);
    return text === null ? OPEN : parseSuspension(text, this.#key);
  }

  /** Replaces the stored suspension. */
  async write(suspension: Suspension): Promise<void> {
    await this.#redis.set(this.#key, JSON.stringify(suspension));
  }
}

/** A value someone else wrote is checked: a garbled one must fail closed, not open. */
function parseSuspension(text: string, key: string): Suspension {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`Redis key ${key} does not hold JSON`, { cause: error });
  }
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const instantOrNull = (x: unknown) => x === null || (typeof x === 'number' && Number.isFinite(x));
  if (
    typeof v.suspended !== 'boolean' ||
    typeof v.auto !== 'boolean' ||
    !instantOrNull(v.until) ||
    !instantOrNull(v.since) ||
    !(v.reason === null || typeof v.reason === 'string')
  ) {
    throw new Error(`Redis key ${key} does not hold a valid suspension`);
  }
  return {
    suspended: v.suspended,
    until: v.until as number | null,
    reason: v.reason as string | null,
    auto: v.auto,
    since: v.since as number | null,
  };
}
