import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Config, loadConfig } from '../../src/config.js';
import type { StrategyName } from '../../src/core/strategies/strategy.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/service/logger.js';
import { openService, type Service } from '../../src/service/service.js';
import { FrozenClock } from './clock.js';
import type { StoreKind } from './stores.js';

/** The API key every test service uses. */
export const TEST_API_KEY = 'test-api-key-0123456789abcdef';

/** A service and its Fastify app over a fresh store and data dir, for `app.inject()`. */
export interface TestService {
  app: FastifyInstance;
  service: Service;
  config: Config;
  clock: FrozenClock;
  /** Authorization header for the management API. */
  auth: { authorization: string };
  close(): Promise<void>;
}

/**
 * Opens a service on `kind` with `strategy`, the embedded catcher and a frozen clock. The
 * outbox worker runs (mails reach `service.devCatcher`) unless `startWorker` is false.
 */
export async function openTestService(options: {
  kind: StoreKind;
  strategy: StrategyName;
  env?: Record<string, string>;
  startWorker?: boolean;
}): Promise<TestService> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mailproof-service-'));
  const database = await options.kind.prepare();
  const config = loadConfig({
    MAILPROOF_DATA_DIR: dataDir,
    MAILPROOF_DATABASE_URL: database.databaseUrl,
    MAILPROOF_STRATEGY: options.strategy,
    MAILPROOF_API_KEY: TEST_API_KEY,
    MAILPROOF_PUBLIC_URL: 'http://mailproof.test',
    MAILPROOF_LOG_LEVEL: 'silent',
    // Suites send hundreds of requests from one address; the protection suites turn these on.
    MAILPROOF_RATE_LIMIT_CLIENT: 'off',
    MAILPROOF_RATE_LIMIT_ISSUE_CLIENT: 'off',
    MAILPROOF_RATE_LIMIT_EMAIL: 'off',
    MAILPROOF_RATE_LIMIT_VERIFY_FAILURES: 'off',
    MAILPROOF_AUTO_SUSPEND: 'off',
    ...options.env,
  });
  const clock = new FrozenClock(Date.now());
  const service = await openService(config, {
    logger: createLogger(config.logLevel),
    clock,
    startWorker: options.startWorker ?? true,
  });
  const app = await buildApp(service);
  await app.ready();
  return {
    app,
    service,
    config,
    clock,
    auth: { authorization: `Bearer ${TEST_API_KEY}` },
    close: async () => {
      await app.close();
      await service.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
