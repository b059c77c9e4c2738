/**
 * Counts over a sliding window, in buckets: the window is the bucket holding the current
 * instant and the ones before it, so counts age out one bucket at a time. Instants come
 * from the caller's clock (never the store's), so tests move time without sleeping.
 * Implementations sharing a store (Redis) add up the counts of every instance.
 */
export interface WindowCounter {
  /** The width of one bucket, ms. */
  readonly bucketMs: number;
  /** The window, ms: a whole number of buckets. */
  readonly windowMs: number;
  /** Adds `by` to counter `name`, in the bucket holding instant `at`. */
  add(name: string, at: number, by: number): Promise<void>;
  /** Adds `members` to the distinct set `name`, in the bucket holding instant `at`. */
  addDistinct(name: string, at: number, members: readonly string[]): Promise<void>;
  /** The sum of counter `name` over the window ending at `now`. */
  total(name: string, now: number): Promise<number>;
  /** How many distinct members set `name` has over the window ending at `now` (may be approximate). */
  distinct(name: string, now: number): Promise<number>;
}

/** Bucket and window sizes, ms. */
export interface WindowOptions {
  /** Default 10 000. */
  bucketMs?: number;
  /** Default 60 000; must be a whole number of buckets. */
  windowMs?: number;
}

/** Resolves the defaults and checks that the window is a whole number of buckets. */
export function windowSizes(options: WindowOptions): { bucketMs: number; windowMs: number } {
  const bucketMs = options.bucketMs ?? 10_000;
  const windowMs = options.windowMs ?? 60_000;
  if (
    !Number.isSafeInteger(bucketMs) ||
    bucketMs < 1 ||
    !Number.isSafeInteger(windowMs) ||
    windowMs < bucketMs ||
    windowMs % bucketMs !== 0
  ) {
    throw new Error(`windowMs (${windowMs}) must be a whole number of buckets of ${bucketMs} ms`);
  }
  return { bucketMs, windowMs };
}

/** The index of the bucket holding instant `at`. */
export function bucketOf(at: number, bucketMs: number): number {
  return Math.floor(at / bucketMs);
}

/** The indexes of the buckets in the window ending at `now`, oldest first. */
export function windowBuckets(now: number, bucketMs: number, windowMs: number): number[] {
  const last = bucketOf(now, bucketMs);
  const count = windowMs / bucketMs;
  return Array.from({ length: count }, (_, i) => last - count + 1 + i);
}

/**
 * Memory cap of one bucket's distinct set: far above any threshold, so past it the count
 * saturates harmlessly instead of letting a flood of addresses grow the process.
 */
const MAX_DISTINCT_PER_BUCKET = 100_000;

/** A `WindowCounter` in this process only: exact counts, for a single instance. */
export class MemoryWindowCounter implements WindowCounter {
  readonly bucketMs: number;
  readonly windowMs: number;
  readonly #counts = new Map<string, Map<number, number>>();
  readonly #sets = new Map<string, Map<number, Set<string>>>();

  constructor(options: WindowOptions = {}) {
    ({ bucketMs: this.bucketMs, windowMs: this.windowMs } = windowSizes(options));
  }

  async add(name: string, at: number, by: number): Promise<void> {
    const buckets = this.#bucketsOf(this.#counts, name, at);
    const bucket = bucketOf(at, this.bucketMs);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + by);
  }

  async addDistinct(name: string, at: number, members: readonly string[]): Promise<void> {
    const buckets = this.#bucketsOf(this.#sets, name, at);
    const bucket = bucketOf(at, this.bucketMs);
    const set = buckets.get(bucket) ?? new Set<string>();
    buckets.set(bucket, set);
    for (const member of members) {
      if (set.size >= MAX_DISTINCT_PER_BUCKET) break;
      set.add(member);
    }
  }

  async total(name: string, now: number): Promise<number> {
    const buckets = this.#bucketsOf(this.#counts, name, now);
    let sum = 0;
    for (const bucket of windowBuckets(now, this.bucketMs, this.windowMs)) {
      sum += buckets.get(bucket) ?? 0;
    }
    return sum;
  }

  async distinct(name: string, now: number): Promise<number> {
    const buckets = this.#bucketsOf(this.#sets, name, now);
    const union = new Set<string>();
    for (const bucket of windowBuckets(now, this.bucketMs, this.windowMs)) {
      for (const member of buckets.get(bucket) ?? []) union.add(member);
    }
    return union.size;
  }

  /** The buckets of `name`, after dropping those that left the window ending at `at`. */
  #bucketsOf<T>(all: Map<string, Map<number, T>>, name: string, at: number): Map<number, T> {
    const buckets = all.get(name) ?? new Map<number, T>();
    all.set(name, buckets);
    const oldest = bucketOf(at, this.bucketMs) - this.windowMs / this.bucketMs + 1;
    for (const bucket of buckets.keys()) {
      if (bucket < oldest) buckets.delete(bucket);
    }
    return buckets;
  }
}
