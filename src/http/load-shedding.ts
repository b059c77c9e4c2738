import underPressure, { TYPE_HEALTH_CHECK } from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Service } from '../service/service.js';
import { HttpFailure } from './failure.js';

/** Route flags read here: `shed: false` never sheds (ops); `database: false` needs no database. */
export interface SheddingFlags {
  shed?: boolean;
  database?: boolean;
}

const RETRY_AFTER_SECONDS = 5;
const HEALTH_CHECK_MS = 1000;

/**
 * Sheds load before any work is done: past the event-loop delay or heap limit a request
 * gets 503 `overloaded` (the busy page for browsers), and while the database does not
 * answer its periodic ping, routes that need it get 503 `unavailable` at once instead of
 * waiting for a timeout. Health, readiness and metrics are never shed.
 */
export async function registerLoadShedding(app: FastifyInstance, service: Service): Promise<void> {
  const { config, store, metrics } = service;
  await app.register(underPressure, {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    maxHeapUsedBytes: config.maxHeapMb * 2 ** 20,
    healthCheckInterval: HEALTH_CHECK_MS,
    healthCheck: async () => {
      try {
        await withTimeout(store.ping(), HEALTH_CHECK_MS);
        return true;
      } catch {
        return false;
      }
    },
    // Throwing from the async handler hands the failure to the app's error handler.
    pressureHandler: async (request: FastifyRequest, _reply, type: string) => {
      const flags = request.routeOptions.config as SheddingFlags;
      if (flags.shed === false) return;
      if (type === TYPE_HEALTH_CHECK) {
        if (flags.database === false) return;
        throw new HttpFailure('unavailable', 'the database does not answer', {
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        });
      }
      metrics.shed.inc({ reason: type });
      throw new HttpFailure('overloaded', 'too busy right now; try again in a few seconds', {
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
    },
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
