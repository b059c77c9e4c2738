import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { ConfigError, MailproofError } from '../core/errors.js';
import type { Clock, Mailer, Random, Store } from '../core/ports.js';
import { SealedBox } from '../core/sealed-box.js';
import { JwtStrategy } from '../core/strategies/jwt.js';
import type { PublicJwk } from '../core/strategies/key-ring.js';
import { OpaqueStrategy } from '../core/strategies/opaque.js';
import type { TokenStrategy } from '../core/strategies/strategy.js';
import { cryptoRandom, systemClock } from '../core/system.js';
import { Verifications } from '../core/verification.js';
import { ApiKeyCheck } from '../http/api-key.js';
import { Metrics } from '../http/metrics.js';
import { loadKeyRing } from '../keys/load-keys.js';
import { loadBranding } from '../mail/branding.js';
import type { DevCatcher } from '../mail/dev-catcher.js';
import { OutboxWorker } from '../mail/outbox-worker.js';
import { SmtpMailer } from '../mail/smtp-mailer.js';
import { createVerificationRenderer } from '../mail/templates.js';
import { AttackDetector } from '../protection/attack-detector.js';
import { AutoSuspend } from '../protection/auto-suspend.js';
import { RateLimits } from '../protection/rate-limits.js';
import { RedisWindowCounter } from '../protection/redis-window-counter.js';
import { SuspendSwitch } from '../protection/suspend-switch.js';
import { MemoryWindowCounter } from '../protection/window-counter.js';
import { DeferredStore } from '../store/deferred-store.js';
import { openStore, storeOptions } from '../store/open-store.js';
import { dataDirSecret } from './secrets.js';
import { openSharedState } from './shared-state.js';

/** Everything the HTTP layer and the CLI need, built once from the configuration. */
export interface Service {
  config: Config;
  logger: Logger;
  store: Store;
  verifications: Verifications;
  suspendSwitch: SuspendSwitch;
  /** Rate limits; a limit set to null in `config.rateLimits` is not checked. */
  rateLimits: RateLimits;
  /** The attack detector, fed by the guards; null when automatic suspension is off. */
  detector: AttackDetector | null;
  metrics: Metrics;
  apiKey: ApiKeyCheck;
  /** The public keys that verify tokens (empty for the opaque strategy). */
  jwks(): { keys: readonly PublicJwk[] };
  /** The embedded catcher, when no SMTP URL is configured. */
  devCatcher: DevCatcher | null;
  worker: OutboxWorker;
  /** Stops the worker (letting a send in flight finish) and releases every connection. */
  close(): Promise<void>;
}

/** What `openService` may be given besides the configuration (tests pass clocks). */
export interface OpenServiceOptions {
  logger: Logger;
  clock?: Clock;
  random?: Random;
  /** Start the outbox worker (default true). */
  startWorker?: boolean;
  /** Read the suspend switch every so often (default 1000 ms). */
  suspendRefreshMs?: number;
}

/**
 * Builds the service: data dir, store (migrated), secrets, token strategy, mailer or dev
 * catcher, outbox worker, suspend switch and metrics. Throws `ConfigError` naming the
 * variable when something configured cannot be used, so the start stops with one line.
 */
export async function openService(config: Config, options: OpenServiceOptions): Promise<Service> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };

  try {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const store = await openDatabase(config, logger);
    closers.push(() => store.close());

    const apiKey = await resolveApiKey(config, logger);
    const sealer = new SealedBox(await resolveOutboxKey(config));
    const { strategy, jwks } = await buildStrategy(config, clock, random, logger);

    let devCatcher: DevCatcher | null = null;
    let mailer: Mailer;
    if (config.smtpUrl) {
      mailer = new SmtpMailer({ url: config.smtpUrl, from: config.mailFrom });
    } else {
      // Development only, and its SMTP server and MIME parser weigh about 40 MB: loaded here.
      const { DevCatcher } = await import('../mail/dev-catcher.js');
      devCatcher = new DevCatcher({ clock });
      await devCatcher.start();
      closers.push(() => devCatcher?.stop());
      mailer = new SmtpMailer({ url: devCatcher.smtpUrl, from: config.mailFrom });
    }
    closers.push(() => mailer.close());

    const shared = await openSharedState(config, store, logger);
    closers.push(() => shared.close());
    const detector = config.autoSuspend
      ? new AttackDetector({
          counter: shared.redis
            ? new RedisWindowCounter({ redis: shared.redis })
            : new MemoryWindowCounter(),
          clock,
          thresholds: config.autoSuspend.thresholds,
          suspendSeconds: config.autoSuspend.suspendSeconds,
        })
      : null;
    const metrics = new Metrics(
      () => store.outboxDepth(),
      () => detector?.counts ?? {},
    );
    const rateLimits = new RateLimits({
      settings: Object.fromEntries(
        Object.entries(config.rateLimits).filter(([, spec]) => spec !== null),
      ),
      ...(shared.redis ? { redis: shared.redis } : {}),
      onStoreFailure: (limit) => metrics.rateLimitStoreFailures.inc({ limit }),
    });
    const branding = loadBranding({
      productName: config.productName,
      ...(config.mailAccentColor ? { accentColor: config.mailAccentColor } : {}),
      ...(config.mailTemplate ? { templateFile: config.mailTemplate } : {}),
    });
    const worker = new OutboxWorker({
      store,
      mailer,
      sealer,
      clock,
      random,
      render: createVerificationRenderer({ publicUrl: config.publicUrl, branding, clock }),
      logger: logger.child({ component: 'outbox' }),
      onSent: () => metrics.mailsSent.inc(),
      onFailed: (_mail, _error, dead) => metrics.mailsFailed.inc({ final: String(dead) }),
    });

    const verifications = new Verifications({
      store,
      strategy,
      sealer,
      clock,
      random,
      tokenTtlSeconds: config.tokenTtlSeconds,
      observer: {
        issued: (event) => {
          metrics.issued.inc({ strategy: event.strategy });
          if (event.superseded)
            metrics.superseded.inc({ strategy: event.strategy }, event.superseded);
        },
        verified: (event) =>
          metrics.verified.inc({ strategy: event.strategy, outcome: event.outcome }),
        mailCommitted: () => worker.notify(),
      },
    });

    const suspendSwitch = new SuspendSwitch({
      state: shared.suspension,
      clock,
      refreshMs: options.suspendRefreshMs ?? 1000,
      onError: (error) => logger.error({ err: error }, 'cannot read the suspend switch: refusing'),
    });
    await suspendSwitch.start();
    closers.push(() => suspendSwitch.stop());

    if (detector) {
      const auto = new AutoSuspend({
        detector,
        suspendSwitch,
        onSuspend: (trigger) => {
          metrics.suspensions.inc({ auto: 'true' });
          metrics.autoSuspensions.inc({ signal: trigger.signal });
          logger.warn({ ...trigger }, `suspended automatically: ${trigger.reason}`);
        },
        onError: (error) =>
          logger.warn({ err: error }, 'attack detector could not read its window'),
      });
      auto.start();
      closers.push(() => auto.stop());
    }

    if (options.startWorker ?? true) {
      worker.start();
      closers.push(() => worker.stop());
    }

    return {
      config,
      logger,
      store,
      verifications,
      suspendSwitch,
      rateLimits,
      detector,
      metrics,
      apiKey: new ApiKeyCheck(apiKey),
      jwks,
      devCatcher,
      worker,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function openDatabase(config: Config, logger: Logger): Promise<Store> {
  if (config.waitForDatabase) {
    const deferred = new DeferredStore({
      open: () => openStore(config.databaseUrl, storeOptions(config)),
      onRetry: (error, nextInMs) =>
        logger.warn(
          { err: error, nextInMs },
          'database unavailable: answering 503 until it is back',
        ),
      onOpen: () => logger.info('database connected'),
    });
    await deferred.start();
    return deferred;
  }
  try {
    return await openStore(config.databaseUrl, storeOptions(config));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const detail =
      error instanceof MailproofError || error instanceof Error ? error.message : String(error);
    throw new ConfigError('MAILPROOF_DATABASE_URL', `cannot open the database: ${detail}`, {
      cause: error,
    });
  }
}

/**
 * Creates, once, what a first start keeps in the data dir (API key, outbox key, jwt signing
 * key) when the configuration does not supply it. `serve --workers` runs this in the
 * primary before forking, so that the workers find one set instead of racing to make theirs.
 */
export async function prepareDataDir(config: Config, logger: Logger): Promise<void> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await resolveApiKey(config, logger);
  await resolveOutboxKey(config);
  if (config.strategy === 'jwt' && !config.signingKeys && !config.signingKeysFile) {
    await loadKeyRing({ dataDir: config.dataDir, generateIfMissing: true, now: Date.now() });
  }
}

async function resolveApiKey(config: Config, logger: Logger): Promise<string> {
  if (config.apiKey) return config.apiKey;
  const { value, created } = await dataDirSecret(config.dataDir, 'api-key', 'MAILPROOF_API_KEY');
  logger.info(
    { apiKeyFile: `${config.dataDir}/api-key`, created },
    `API key for /v1 management calls (set MAILPROOF_API_KEY to choose one): ${value}`,
  );
  return value;
}

async function resolveOutboxKey(config: Config): Promise<Buffer> {
  const text =
    config.outboxKey ??
    (await dataDirSecret(config.dataDir, 'outbox.key', 'MAILPROOF_OUTBOX_KEY')).value;
  return Buffer.from(text, 'base64url');
}

async function buildStrategy(
  config: Config,
  clock: Clock,
  random: Random,
  logger: Logger,
): Promise<{ strategy: TokenStrategy; jwks: Service['jwks'] }> {
  if (config.strategy === 'opaque') {
    return { strategy: new OpaqueStrategy({ random }), jwks: () => ({ keys: [] }) };
  }
  const keyRing = await loadKeyRing({
    dataDir: config.dataDir,
    keysEnv: config.signingKeys,
    keysFile: config.signingKeysFile,
    generateIfMissing: true,
    now: clock.now(),
  });
  if (!config.signingKeys && !config.signingKeysFile) {
    logger.info(
      { keysDir: `${config.dataDir}/keys` },
      'jwt signing keys from the data dir; several instances must share MAILPROOF_SIGNING_KEYS',
    );
  }
  const strategy = new JwtStrategy({
    keyRing,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    random,
  });
  return { strategy, jwks: () => keyRing.jwks() };
}
