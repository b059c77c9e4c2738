import type { ChainableCommander, Redis } from 'ioredis';
import {
  bucketOf,
  type WindowCounter,
  type WindowOptions,
  windowBuckets,
  windowSizes,
} from './window-counter.js';

/**
 * A `WindowCounter` in Redis, shared by every instance: one key per name and bucket, a
 * counter (INCRBY) or a HyperLogLog (PFADD: distinct counts within about 1%, in 12 KB
 * whatever the number of members). Each write and its expiry go in one MULTI, so no key
 * is ever left without an expiry. Keys are `${keyPrefix}window:${name}:${bucket}`.
 */
export class RedisWindowCounter implements WindowCounter {
  readonly bucketMs: number;
  readonly windowMs: number;
  readonly #redis: Redis;
  readonly #prefix: string;

  /** `keyPrefix` defaults to `mailproof:`. */
  constructor(options: WindowOptions & { redis: Redis; keyPrefix?: string }) {
    ({ bucketMs: this.bucketMs, windowMs: this.windowMs } = windowSizes(options));
    this.#redis = options.redis;
    this.#prefix = `${options.keyPrefix ?? 'mailproof:'}window:`;
  }

  async add(name: string, at: number, by: number): Promise<void> {
    const key = this.#key(name, bucketOf(at, this.bucketMs));
    await exec(this.#redis.multi().incrby(key, by).pexpire(key, this.#ttlMs()));
  }

  async addDistinct(name: string, at: number, members: readonly string[]): Promise<void> {
    if (members.length === 0) return;
    const key = this.#key(name, bucketOf(at, this.bucketMs));
    await exec(
      this.#redis
        .multi()
        .pfadd(key, ...members)
        .pexpire(key, this.#ttlMs()),
    );
  }

  async total(name: string, now: number): Promise<number> {
    const values = await this.#redis.mget(this.#windowKeys(name, now));
    return values.reduce((sum, value) => sum + (value === null ? 0 : Number(value)), 0);
  }

  async distinct(name: string, now: number): Promise<number> {
    // PFCOUNT of several keys counts their union: a member seen in two buckets counts once.
    return this.#redis.pfcount(this.#windowKeys(name, now));
  }

  #key(name: string, bucket: number): string {
    return `${this.#prefix}${name}:${bucket}`;
  }

  #windowKeys(name: string, now: number): string[] {
    return windowBuckets(now, this.bucketMs, this.windowMs).map((b) => this.#key(name, b));
  }

  /**
   * A bucket is read until a window after it began; one bucket more absorbs late flushes and
   * clock differences between instances. Relative to Redis's time: cleanup only, since
   * which buckets count is decided from the caller's clock.
   */
  #ttlMs(): number {
    return this.windowMs + this.bucketMs;
  }
}

/** Runs a transaction; an error of any command in it rejects. */
async function exec(transaction: ChainableCommander): Promise<void> {
  const results = await transaction.exec();
  if (!results) throw new Error('Redis transaction was aborted');
  for (const [error] of results) {
    if (error) throw error;
  }
}
