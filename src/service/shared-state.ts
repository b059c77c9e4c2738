import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store, SuspensionState } from '../core/ports.js';

/** The state every instance shares: in Redis when configured, else in the database. */
export interface SharedState {
  suspension: SuspensionState;
  /** The Redis client, shared by rate limits and the attack detector; null without Redis. */
  redis: Redis | null;
  close(): Promise<void>;
}

/**
 * Opens the shared state. The service and the CLI's switch commands both come here, so an
 * operator's `suspend` always lands where the instances look. Throws `ConfigError` when
 * Redis is configured but does not answer at start.
 */
export async function openSharedState(
  config: Config,
  store: Store,
  logger: Logger,
): Promise<SharedState> {
  if (!config.redisUrl) {
    return {
      suspension: { read: () => store.readSuspension(), write: (s) => store.writeSuspension(s) },
      redis: null,
      close: async () => {},
    };
  }
  // Loaded only when configured: the Redis client's modules are about 25 MB of memory.
  const [{ connectRedis }, { RedisSuspensionState }] = await Promise.all([
    import('../protection/redis.js'),
    import('../protection/redis-suspension-state.js'),
  ]);
  const redis = await connectRedis(config.redisUrl, {
    logger: logger.child({ component: 'redis' }),
  });
  return {
    suspension: new RedisSuspensionState({ redis }),
    redis,
    close: async () => {
      redis.disconnect();
    },
  };
}
