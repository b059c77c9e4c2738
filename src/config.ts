import { resolve } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { ConfigError } from './core/errors.js';
import type { StrategyName } from './core/strategies/strategy.js';
import { ATTACK_DETECTOR_DEFAULTS, type AttackThresholds } from './protection/attack-detector.js';
import {
  type LimitName,
  parseRateLimitSpec,
  RATE_LIMIT_DEFAULTS,
  type RateLimitSpec,
} from './protection/rate-limits.js';

/**
 * The service's configuration, parsed and validated once at start. This module is the only
 * reader of `process.env`: everything else receives a `Config`.
 */
export interface Config {
  port: number;
  host: string;
  /** Absolute path of the data folder (SQLite file, dev keys, dev API key, outbox key). */
  dataDir: string;
  /** `sqlite:PATH` or `postgres://…`. */
  databaseUrl: string;
  strategy: StrategyName;
  /** Base of mailed links, without a trailing slash. */
  publicUrl: string;
  /** null: the embedded dev catcher receives every mail. */
  smtpUrl: string | null;
  mailFrom: string;
  /** null: generated, saved under the data dir and printed at start. */
  apiKey: string | null;
  redisUrl: string | null;
  tokenTtlSeconds: number;
  /** Fastify's `trustProxy`: false, true, a hop count, or a list of addresses/CIDRs. */
  trustProxy: boolean | number | string;
  /** Signing keys for the jwt strategy (PEM or JWK/JWKS text); null: generated in the data dir. */
  signingKeys: string | null;
  /** A file holding signing keys, as above. */
  signingKeysFile: string | null;
  /** 32-byte base64url key sealing tokens in queued mails; null: generated in the data dir. */
  outboxKey: string | null;
  /** `iss` and `aud` of JWTs. */
  jwtIssuer: string;
  jwtAudience: string;
  productName: string;
  /** An HTML mail template with {{link}}, {{productName}}, {{expiresIn}} placeholders. */
  mailTemplate: string | null;
  /** Button colour in mails, `#rgb` or `#rrggbb`; null: the default blue. */
  mailAccentColor: string | null;
  /** Each rate limit, or null when switched off. */
  rateLimits: Record<LimitName, RateLimitSpec | null>;
  /** Automatic suspension on a flood; null when switched off. */
  autoSuspend: { thresholds: AttackThresholds; suspendSeconds: number } | null;
  /** Shed load (503 overloaded) past this event-loop delay; 0: never. */
  maxEventLoopDelayMs: number;
  /** Shed load past this much heap in use, in MiB; 0: never. */
  maxHeapMb: number;
  /** Start even while the database is down, answering 503 until it answers. */
  waitForDatabase: boolean;
  /** PostgreSQL: send named prepared statements (off behind a pooler that cannot keep them). */
  preparedStatements: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** One setting: its environment variable, CLI flag and how to read it. */
interface Setting {
  key: string;
  env: string;
  flag: string;
  description: string;
}

/** Every setting, in the order the README documents them. */
export const SETTINGS = [
  { key: 'port', env: 'PORT', flag: 'port', description: 'port to listen on (3000)' },
  { key: 'host', env: 'HOST', flag: 'host', description: 'address to listen on (127.0.0.1)' },
  {
    key: 'dataDir',
    env: 'MAILPROOF_DATA_DIR',
    flag: 'data-dir',
    description: 'data folder (./data)',
  },
  {
    key: 'databaseUrl',
    env: 'MAILPROOF_DATABASE_URL',
    flag: 'database-url',
    description: 'sqlite:PATH or postgres://… (sqlite:$MAILPROOF_DATA_DIR/mailproof.db)',
  },
  {
    key: 'strategy',
    env: 'MAILPROOF_STRATEGY',
    flag: 'strategy',
    description: 'jwt or opaque (opaque)',
  },
  {
    key: 'publicUrl',
    env: 'MAILPROOF_PUBLIC_URL',
    flag: 'public-url',
    description: 'base of mailed links (http://HOST:PORT)',
  },
  {
    key: 'smtpUrl',
    env: 'MAILPROOF_SMTP_URL',
    flag: 'smtp-url',
    description: 'smtp://user:pass@host:port or smtps://… (unset: embedded catcher)',
  },
  {
    key: 'mailFrom',
    env: 'MAILPROOF_MAIL_FROM',
    flag: 'mail-from',
    description: 'sender address (mailproof <no-reply@localhost>)',
  },
  {
    key: 'apiKey',
    env: 'MAILPROOF_API_KEY',
    flag: 'api-key',
    description: 'bearer key for /v1/* management calls (unset: generated into the data dir)',
  },
  {
    key: 'redisUrl',
    env: 'MAILPROOF_REDIS_URL',
    flag: 'redis-url',
    description: 'redis://… for state shared by instances (unset: in-process)',
  },
  {
    key: 'tokenTtlSeconds',
    env: 'MAILPROOF_TOKEN_TTL',
    flag: 'token-ttl',
    description: 'token lifetime in seconds (86400)',
  },
  {
    key: 'trustProxy',
    env: 'MAILPROOF_TRUST_PROXY',
    flag: 'trust-proxy',
    description:
      'take the client address from X-Forwarded-For: true, a hop count or addresses (false)',
  },
  {
    key: 'signingKeys',
    env: 'MAILPROOF_SIGNING_KEYS',
    flag: 'signing-keys',
    description: 'jwt signing keys as PEM, JWK or JWKS text (unset: generated into the data dir)',
  },
  {
    key: 'signingKeysFile',
    env: 'MAILPROOF_SIGNING_KEYS_FILE',
    flag: 'signing-keys-file',
    description: 'a file with jwt signing keys (PEM, JWK or JWKS)',
  },
  {
    key: 'outboxKey',
    env: 'MAILPROOF_OUTBOX_KEY',
    flag: 'outbox-key',
    description: '32-byte base64url key sealing queued mails; share it between instances',
  },
  {
    key: 'jwtIssuer',
    env: 'MAILPROOF_JWT_ISSUER',
    flag: 'jwt-issuer',
    description: 'JWT iss (the public URL)',
  },
  {
    key: 'jwtAudience',
    env: 'MAILPROOF_JWT_AUDIENCE',
    flag: 'jwt-audience',
    description: 'JWT aud (mailproof-verify)',
  },
  {
    key: 'productName',
    env: 'MAILPROOF_PRODUCT_NAME',
    flag: 'product-name',
    description: 'name shown in mails and pages (mailproof)',
  },
  {
    key: 'mailTemplate',
    env: 'MAILPROOF_MAIL_TEMPLATE',
    flag: 'mail-template',
    description: 'HTML mail template file with {{link}}, {{productName}}, {{expiresIn}}',
  },
  {
    key: 'mailAccentColor',
    env: 'MAILPROOF_MAIL_ACCENT_COLOR',
    flag: 'mail-accent-color',
    description: 'button colour in mails, #rgb or #rrggbb (#1d4ed8)',
  },
  {
    key: 'rateLimitClient',
    env: 'MAILPROOF_RATE_LIMIT_CLIENT',
    flag: 'rate-limit-client',
    description: 'requests per client address on public routes, POINTS/SECONDS or off (300/60)',
  },
  {
    key: 'rateLimitIssueClient',
    env: 'MAILPROOF_RATE_LIMIT_ISSUE_CLIENT',
    flag: 'rate-limit-issue-client',
    description: 'sign-ups and resends per client address, POINTS/SECONDS or off (30/600)',
  },
  {
    key: 'rateLimitEmail',
    env: 'MAILPROOF_RATE_LIMIT_EMAIL',
    flag: 'rate-limit-email',
    description: 'mails per recipient address, POINTS/SECONDS or off (5/3600)',
  },
  {
    key: 'rateLimitVerifyFailures',
    env: 'MAILPROOF_RATE_LIMIT_VERIFY_FAILURES',
    flag: 'rate-limit-verify-failures',
    description:
      'failed verifications per client address before refusing, POINTS/SECONDS or off (20/600)',
  },
  {
    key: 'autoSuspend',
    env: 'MAILPROOF_AUTO_SUSPEND',
    flag: 'auto-suspend',
    description:
      'suspend by itself on a flood: on, off, or thresholds per minute FAILED,ISSUED,RECIPIENTS (600,300,200)',
  },
  {
    key: 'autoSuspendSeconds',
    env: 'MAILPROOF_AUTO_SUSPEND_SECONDS',
    flag: 'auto-suspend-seconds',
    description: 'how long an automatic suspension lasts, seconds (300)',
  },
  {
    key: 'maxEventLoopDelayMs',
    env: 'MAILPROOF_MAX_EVENT_LOOP_DELAY_MS',
    flag: 'max-event-loop-delay-ms',
    description: 'shed load (503 overloaded) past this event-loop delay, 0 never (1000)',
  },
  {
    key: 'maxHeapMb',
    env: 'MAILPROOF_MAX_HEAP_MB',
    flag: 'max-heap-mb',
    description: 'shed load past this heap in use, MiB, 0 never (90% of the heap limit)',
  },
  {
    key: 'waitForDatabase',
    env: 'MAILPROOF_WAIT_FOR_DATABASE',
    flag: 'wait-for-database',
    description:
      'true: start while the database is down and answer 503 until it is back (false: stop the start)',
  },
  {
    key: 'preparedStatements',
    env: 'MAILPROOF_DATABASE_PREPARED_STATEMENTS',
    flag: 'database-prepared-statements',
    description:
      'PostgreSQL: named prepared statements, planned once per connection (true); false behind a pooler that cannot keep them',
  },
  {
    key: 'logLevel',
    env: 'MAILPROOF_LOG_LEVEL',
    flag: 'log-level',
    description: 'fatal, error, warn, info, debug, trace or silent (info)',
  },
] as const satisfies readonly Setting[];

/** The name of one setting, as `loadConfig` takes it from CLI flags. */
export type SettingKey = (typeof SETTINGS)[number]['key'];

/** Raw values by setting key: CLI flags win over the environment. */
export type RawSettings = Partial<Record<SettingKey, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Reads every setting from `flags` (CLI) then `env`, validates each and derives the
 * defaults. Throws `ConfigError` naming the first bad variable; never falls back silently.
 */
export function loadConfig(env: NodeJS.ProcessEnv, flags: RawSettings = {}): Config {
  const raw = (key: SettingKey): string | undefined => {
    const setting = SETTINGS.find((s) => s.key === key)!;
    const value = flags[key] ?? env[setting.env];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const name = (key: SettingKey): string => SETTINGS.find((s) => s.key === key)!.env;

  const port = parseInteger(raw('port') ?? '3000', name('port'), 0, 65_535);
  const host = raw('host') ?? '127.0.0.1';
  const dataDir = resolve(raw('dataDir') ?? './data');
  const databaseUrl = parseDatabaseUrl(
    raw('databaseUrl') ?? `sqlite:${resolve(dataDir, 'mailproof.db')}`,
    name('databaseUrl'),
  );
  const strategy = parseChoice(raw('strategy') ?? 'opaque', name('strategy'), ['jwt', 'opaque']);
  const publicUrl = parseHttpUrl(
    raw('publicUrl') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    name('publicUrl'),
  );
  const smtpUrl = optional(raw('smtpUrl'), (v) =>
    parseUrl(v, name('smtpUrl'), ['smtp:', 'smtps:']),
  );
  const redisUrl = optional(raw('redisUrl'), (v) =>
    parseUrl(v, name('redisUrl'), ['redis:', 'rediss:']),
  );
  const apiKey = optional(raw('apiKey'), (v) => {
    if (v.length < 16) throw new ConfigError(name('apiKey'), 'must be at least 16 characters');
    return v;
  });
  const outboxKey = optional(raw('outboxKey'), (v) => {
    if (Buffer.from(v, 'base64url').length !== 32) {
      throw new ConfigError(name('outboxKey'), 'must be 32 bytes, base64url-encoded');
    }
    return v;
  });

  return {
    port,
    host,
    dataDir,
    databaseUrl,
    strategy,
    publicUrl,
    smtpUrl,
    mailFrom: raw('mailFrom') ?? 'mailproof <no-reply@localhost>',
    apiKey,
    redisUrl,
    tokenTtlSeconds: parseInteger(
      raw('tokenTtlSeconds') ?? '86400',
      name('tokenTtlSeconds'),
      60,
      30 * 86_400,
    ),
    trustProxy: parseTrustProxy(raw('trustProxy') ?? 'false', name('trustProxy')),
    signingKeys: raw('signingKeys') ?? null,
    signingKeysFile: optional(raw('signingKeysFile'), (v) => resolve(v)),
    outboxKey,
    jwtIssuer: raw('jwtIssuer') ?? publicUrl,
    jwtAudience: raw('jwtAudience') ?? 'mailproof-verify',
    productName: raw('productName') ?? 'mailproof',
    mailTemplate: optional(raw('mailTemplate'), (v) => resolve(v)),
    mailAccentColor: raw('mailAccentColor') ?? null,
    rateLimits: {
      client: parseLimit(raw('rateLimitClient'), name('rateLimitClient'), 'client'),
      issue_client: parseLimit(
        raw('rateLimitIssueClient'),
        name('rateLimitIssueClient'),
        'issue_client',
      ),
      email: parseLimit(raw('rateLimitEmail'), name('rateLimitEmail'), 'email'),
      verify_failures: parseLimit(
        raw('rateLimitVerifyFailures'),
        name('rateLimitVerifyFailures'),
        'verify_failures',
      ),
    },
    autoSuspend: parseAutoSuspend(
      raw('autoSuspend') ?? 'on',
      name('autoSuspend'),
      parseInteger(
        raw('autoSuspendSeconds') ?? String(ATTACK_DETECTOR_DEFAULTS.suspendSeconds),
        name('autoSuspendSeconds'),
        1,
        86_400,
      ),
    ),
    maxEventLoopDelayMs: parseInteger(
      raw('maxEventLoopDelayMs') ?? '1000',
      name('maxEventLoopDelayMs'),
      0,
      60_000,
    ),
    maxHeapMb: parseInteger(
      raw('maxHeapMb') ?? String(Math.floor((getHeapStatistics().heap_size_limit * 0.9) / 2 ** 20)),
      name('maxHeapMb'),
      0,
      1_048_576,
    ),
    waitForDatabase: parseBoolean(raw('waitForDatabase') ?? 'false', name('waitForDatabase')),
    preparedStatements: parseBoolean(
      raw('preparedStatements') ?? 'true',
      name('preparedStatements'),
    ),
    logLevel: parseChoice(raw('logLevel') ?? 'info', name('logLevel'), LOG_LEVELS),
  };
}

function optional<T>(value: string | undefined, parse: (value: string) => T): T | null {
  return value === undefined ? null : parse(value);
}

function parseInteger(value: string, variable: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(
      variable,
      `expected a whole number from ${min} to ${max}, got "${value}"`,
    );
  }
  return Number(value);
}

function parseChoice<T extends string>(value: string, variable: string, choices: readonly T[]): T {
  if (!choices.includes(value as T)) {
    throw new ConfigError(variable, `expected one of ${choices.join(', ')}, got "${value}"`);
  }
  return value as T;
}

function parseUrl(value: string, variable: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, 'is not a valid URL');
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(
      variable,
      `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );
  }
  return value;
}

function parseHttpUrl(value: string, variable: string): string {
  const url = parseUrl(value, variable, ['http:', 'https:']);
  if (new URL(url).search || new URL(url).hash) {
    throw new ConfigError(variable, 'must not have a query or fragment');
  }
  return url.replace(/\/+$/, '');
}

function parseDatabaseUrl(value: string, variable: string): string {
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (path === '') throw new ConfigError(variable, 'sqlite: needs a file path');
    return `sqlite:${path === ':memory:' ? path : resolve(path)}`;
  }
  if (!/^postgres(ql)?:\/\//.test(value)) {
    throw new ConfigError(variable, 'expected sqlite:PATH or postgres://user@host:port/database');
  }
  return parseUrl(value, variable, ['postgres:', 'postgresql:']);
}

function parseLimit(
  value: string | undefined,
  variable: string,
  limit: LimitName,
): RateLimitSpec | null {
  if (value === undefined) return RATE_LIMIT_DEFAULTS[limit];
  if (value.toLowerCase() === 'off') return null;
  try {
    return parseRateLimitSpec(value);
  } catch (error) {
    throw new ConfigError(variable, `${(error as Error).message}, or off`);
  }
}

function parseAutoSuspend(
  value: string,
  variable: string,
  suspendSeconds: number,
): Config['autoSuspend'] {
  const lower = value.toLowerCase();
  if (['off', 'false', '0', 'no'].includes(lower)) return null;
  if (['on', 'true', 'yes'].includes(lower)) {
    return { thresholds: ATTACK_DETECTOR_DEFAULTS.thresholds, suspendSeconds };
  }
  const match = /^(\d+),(\d+),(\d+)$/.exec(value.replace(/\s/g, ''));
  if (!match || match.slice(1).some((n) => Number(n) < 1)) {
    throw new ConfigError(
      variable,
      'expected on, off, or three counts per minute: FAILED,ISSUED,RECIPIENTS',
    );
  }
  return {
    thresholds: {
      verify_failed: Number(match[1]),
      issued: Number(match[2]),
      distinct_recipients: Number(match[3]),
    },
    suspendSeconds,
  };
}

function parseBoolean(value: string, variable: string): boolean {
  const lower = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  throw new ConfigError(variable, `expected true or false, got "${value}"`);
}

function parseTrustProxy(value: string, variable: string): boolean | number | string {
  const lower = value.toLowerCase();
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  if (['true', 'yes', 'on'].includes(lower)) return true;
  if (/^\d+$/.test(value)) return Number(value);
  if (/^[0-9a-fA-F.:/, ]+$/.test(value)) return value;
  throw new ConfigError(variable, 'expected true, false, a hop count or a list of addresses');
}
