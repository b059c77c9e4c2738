import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from 'rate-limiter-flexible';
import { hashKey } from './hash-key.js';

/**
 * The rate limits; the names are stable metric labels.
 * - `client`: requests per client address, on every public route.
 * - `issue_client`: issue, resend and sign-up requests per client address.
 * - `email`: issue and resend requests per canonical recipient email key (mail bombing).
 * - `verify_failures`: failed verifications (invalid, expired, revoked) per client address
 *   (token guessing).
 */
export type LimitName = 'client' | 'issue_client' | 'email' | 'verify_failures';

/** The limits consumed by `check`, one point per request. */
export type CountedLimit = Exclude<LimitName, 'verify_failures'>;

/** At most `points` per fixed window of `durationSeconds`, starting at the first one. */
export interface RateLimitSpec {
  points: number;
  durationSeconds: number;
}

/** Every limit's numbers. */
export type RateLimitSettings = Readonly<Record<LimitName, RateLimitSpec>>;

/**
 * Defaults: far above what a person does (a sign-up is a handful of requests), low enough
 * that a script is stopped early. The `email` limit holds whatever the number of client
 * addresses used.
 */
export const RATE_LIMIT_DEFAULTS: RateLimitSettings = {
  client: { points: 300, durationSeconds: 60 },
  issue_client: { points: 30, durationSeconds: 600 },
  email: { points: 5, durationSeconds: 3600 },
  verify_failures: { points: 20, durationSeconds: 600 },
};

/**
 * What each limit does when the shared store (Redis) errors, is disconnected or does not
 * answer within `timeoutMs`. Every limit then decides from an in-process limiter with the
 * same numbers (rate-limiter-flexible's `insuranceLimiter`): it still holds, per instance,
 * so N instances allow at most N times the limit until Redis is back.
 *
 * Failing open (no limit at all) would hand an attacker who can disturb Redis unlimited
 * mails and guesses. Failing closed would turn a Redis outage into a full outage: every
 * sign-up and every verification refused, although the database still works. (The suspend
 * switch, when it lives in Redis, does fail closed by design: an outage longer than its
 * refresh interval then answers 503 for issue and verify; these limits keep no request
 * waiting on Redis meanwhile.)
 */
export const STORE_FAILURE_POLICY: Readonly<
  Record<LimitName, { mode: 'per_instance'; why: string }>
> = {
  client: {
    mode: 'per_instance',
    why: 'a limiter outage must not take every public route down',
  },
  issue_client: {
    mode: 'per_instance',
    why: 'no request waits on Redis, and one address still cannot exceed the limit per instance',
  },
  email: {
    mode: 'per_instance',
    why: 'mail bombing stays bounded (N instances: N times the limit) without a hard dependency',
  },
  verify_failures: {
    mode: 'per_instance',
    why: 'guessing stays bounded per instance without refusing every verification',
  },
};

/** A limit's answer: go on, or refuse with a Retry-After. */
export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** How `RateLimits` is built. */
export interface RateLimitsOptions {
  /** Limits to change; the others keep `RATE_LIMIT_DEFAULTS`. */
  settings?: Partial<RateLimitSettings>;
  /** Shared counters for every instance; absent: in-process counters. */
  redis?: Redis;
  /** Prefix of every Redis key. Default `mailproof:`. */
  keyPrefix?: string;
  /**
   * With Redis: the longest a decision waits on it before the per-instance limiter decides.
   * A backstop for a client without a command timeout. Default 250.
   */
  timeoutMs?: number;
  /** Called when a limit decided per instance because its store failed (metrics, logs). */
  onStoreFailure?: (limit: LimitName) => void;
}

/** The limiter operations used here; every rate-limiter-flexible limiter has them. */
interface Limiter {
  consume(key: string): Promise<RateLimiterRes>;
  penalty(key: string): Promise<RateLimiterRes>;
  get(key: string): Promise<RateLimiterRes | null>;
}

const ALLOWED: LimitDecision = { allowed: true };

/**
 * The rate limits, over in-process counters or Redis counters shared by every instance.
 * rate-limiter-flexible keeps fixed windows; with Redis each change is one atomic Lua
 * script, so concurrent requests on any instance never exceed a limit. Keys are hashed, so
 * neither memory nor Redis holds client addresses or emails in clear.
 *
 * The API knows nothing of whether an email belongs to anyone: the caller consumes `email`
 * for every issue and resend request, so a refusal reveals nothing.
 */
export class RateLimits {
  /** The numbers in force. */
  readonly settings: RateLimitSettings;
  readonly #limiters: Readonly<Record<LimitName, Limiter>>;

  constructor(options: RateLimitsOptions = {}) {
    this.settings = { ...RATE_LIMIT_DEFAULTS, ...options.settings };
    const limiters = {} as Record<LimitName, Limiter>;
    for (const name of Object.keys(STORE_FAILURE_POLICY) as LimitName[]) {
      const spec = this.settings[name];
      checkSpec(spec, name);
      limiters[name] = options.redis
        ? redisLimiter(name, spec, options.redis, options)
        : new RateLimiterMemory({ points: spec.points, duration: spec.durationSeconds });
    }
    this.#limiters = limiters;
  }

  /** Counts one request against `limit` for `key`; refuses once the window's points are spent. */
  async check(limit: CountedLimit, key: string): Promise<LimitDecision> {
    try {
      await this.#limiters[limit].consume(hashKey(key));
      return ALLOWED;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return refused(rejection.msBeforeNext);
      throw rejection;
    }
  }

  /**
   * Whether verifications from `key` are refused: once `verify_failures` points failures
   * were recorded, until their window ends. Counts nothing.
   */
  async isBlocked(key: string): Promise<LimitDecision> {
    const res = await this.#limiters.verify_failures.get(hashKey(key));
    return this.#failureDecision(res);
  }

  /** Records a failed verification from `key`; answers whether the next ones are refused. */
  async recordFailure(key: string): Promise<LimitDecision> {
    const res = await this.#limiters.verify_failures.penalty(hashKey(key));
    return this.#failureDecision(res);
  }

  #failureDecision(res: RateLimiterRes | null): LimitDecision {
    if (!res || res.msBeforeNext <= 0) return ALLOWED;
    return res.consumedPoints >= this.settings.verify_failures.points
      ? refused(res.msBeforeNext)
      : ALLOWED;
  }
}

/**
 * Reads a limit written `POINTS/SECONDS`, e.g. `5/3600` for five per hour. Throws an Error
 * saying what is expected; the caller names the variable.
 */
export function parseRateLimitSpec(text: string): RateLimitSpec {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) {
    throw new Error(`expected POINTS/SECONDS such as "5/3600" (5 per hour), got "${text}"`);
  }
  const spec = { points: Number(match[1]), durationSeconds: Number(match[2]) };
  checkSpec(spec, `"${text}"`);
  return spec;
}

/** Whole numbers only: Redis expiries are in whole seconds, and points are counted one by one. */
function checkSpec(spec: RateLimitSpec, what: string): void {
  const whole = (n: number) => Number.isSafeInteger(n) && n >= 1;
  if (!whole(spec.points) || !whole(spec.durationSeconds)) {
    throw new Error(`rate limit ${what}: points and seconds must be whole numbers of at least 1`);
  }
}

/**
 * A Redis limiter that falls back to a per-instance one (see `STORE_FAILURE_POLICY`) at
 * once when the client is not connected, and after `timeoutMs` when Redis does not answer.
 */
function redisLimiter(
  name: LimitName,
  spec: RateLimitSpec,
  redis: Redis,
  options: RateLimitsOptions,
): Limiter {
  const onStoreFailure = options.onStoreFailure ?? (() => {});
  const insurance = new ObservedMemoryLimiter(spec, () => onStoreFailure(name));
  const store = new RateLimiterRedis({
    storeClient: redis,
    points: spec.points,
    duration: spec.durationSeconds,
    keyPrefix: `${options.keyPrefix ?? 'mailproof:'}rl:${name}`,
    rejectIfRedisNotReady: true,
    insuranceLimiter: insurance,
  });
  // Takes the store's insurance limiter as its own, for when the deadline passes.
  return new RLWrapperTimeouts({ limiter: store, timeoutMs: options.timeoutMs ?? 250 });
}

/** The per-instance fallback, telling each time it is used. */
class ObservedMemoryLimiter extends RateLimiterMemory {
  readonly #onUse: () => void;

  constructor(spec: RateLimitSpec, onUse: () => void) {
    super({ points: spec.points, duration: spec.durationSeconds });
    this.#onUse = onUse;
  }

  override consume(key: string | number, points?: number): Promise<RateLimiterRes> {
    this.#onUse();
    return super.consume(key, points);
  }

  override penalty(key: string | number, points?: number): Promise<RateLimiterRes> {
    this.#onUse();
    return super.penalty(key, points);
  }

  override get(key: string | number): Promise<RateLimiterRes | null> {
    this.#onUse();
    return super.get(key);
  }
}

function refused(msBeforeNext: number): LimitDecision {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)) };
}
