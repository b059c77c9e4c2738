import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/core/errors.js';

describe('loadConfig', () => {
  it('works with nothing configured', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: resolve('data'),
      databaseUrl: `sqlite:${resolve('data', 'mailproof.db')}`,
      strategy: 'opaque',
      publicUrl: 'http://127.0.0.1:3000',
      smtpUrl: null,
      mailFrom: 'mailproof <no-reply@localhost>',
      apiKey: null,
      redisUrl: null,
      tokenTtlSeconds: 86_400,
      trustProxy: false,
      preparedStatements: true,
    });
  });

  it('turns PostgreSQL prepared statements off for poolers that cannot keep them', () => {
    expect(loadConfig({ MAILPROOF_DATABASE_PREPARED_STATEMENTS: 'false' }).preparedStatements).toBe(
      false,
    );
  });

  it('derives the database and public URL from the data dir, host and port', () => {
    const config = loadConfig({ MAILPROOF_DATA_DIR: '/tmp/mp', PORT: '8080', HOST: '0.0.0.0' });
    expect(config.databaseUrl).toBe('sqlite:/tmp/mp/mailproof.db');
    expect(config.publicUrl).toBe('http://0.0.0.0:8080');
  });

  it('lets CLI flags win over the environment', () => {
    const config = loadConfig({ MAILPROOF_STRATEGY: 'opaque' }, { strategy: 'jwt' });
    expect(config.strategy).toBe('jwt');
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      MAILPROOF_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      MAILPROOF_STRATEGY: 'jwt',
      MAILPROOF_PUBLIC_URL: 'https://verify.example.com/',
      MAILPROOF_SMTP_URL: 'smtps://u:p@mail.example.com:465',
      MAILPROOF_MAIL_FROM: 'Example <no-reply@example.com>',
      MAILPROOF_API_KEY: 'k'.repeat(32),
      MAILPROOF_REDIS_URL: 'redis://127.0.0.1:6379',
      MAILPROOF_TOKEN_TTL: '3600',
      MAILPROOF_TRUST_PROXY: 'true',
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      strategy: 'jwt',
      publicUrl: 'https://verify.example.com',
      smtpUrl: 'smtps://u:p@mail.example.com:465',
      mailFrom: 'Example <no-reply@example.com>',
      apiKey: 'k'.repeat(32),
      redisUrl: 'redis://127.0.0.1:6379',
      tokenTtlSeconds: 3600,
      trustProxy: true,
      jwtIssuer: 'https://verify.example.com',
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['MAILPROOF_STRATEGY', 'hmac'],
    ['MAILPROOF_DATABASE_URL', 'mysql://localhost/db'],
    ['MAILPROOF_DATABASE_URL', 'sqlite:'],
    ['MAILPROOF_DATABASE_URL', 'not a url'],
    ['MAILPROOF_PUBLIC_URL', 'ftp://example.com'],
    ['MAILPROOF_PUBLIC_URL', 'https://example.com/?a=1'],
    ['MAILPROOF_SMTP_URL', 'http://mail.example.com'],
    ['MAILPROOF_REDIS_URL', 'localhost:6379'],
    ['MAILPROOF_API_KEY', 'short'],
    ['MAILPROOF_TOKEN_TTL', '-5'],
    ['MAILPROOF_TOKEN_TTL', '1.5'],
    ['MAILPROOF_TRUST_PROXY', 'maybe'],
    ['MAILPROOF_OUTBOX_KEY', 'too-short'],
    ['MAILPROOF_LOG_LEVEL', 'loud'],
  ])('refuses %s=%s with an error naming the variable', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toMatch(new RegExp(`^${variable}: `));
  });
});

describe('protection settings', () => {
  it('has safe defaults', () => {
    const config = loadConfig({});
    expect(config.rateLimits).toEqual({
      client: { points: 300, durationSeconds: 60 },
      issue_client: { points: 30, durationSeconds: 600 },
      email: { points: 5, durationSeconds: 3600 },
      verify_failures: { points: 20, durationSeconds: 600 },
    });
    expect(config.autoSuspend).toEqual({
      thresholds: { verify_failed: 600, issued: 300, distinct_recipients: 200 },
      suspendSeconds: 300,
    });
    expect(config.maxEventLoopDelayMs).toBe(1000);
    expect(config.maxHeapMb).toBeGreaterThan(100);
  });

  it('reads limits, switches them off, and sets thresholds', () => {
    const config = loadConfig({
      MAILPROOF_RATE_LIMIT_EMAIL: '3/60',
      MAILPROOF_RATE_LIMIT_CLIENT: 'off',
      MAILPROOF_AUTO_SUSPEND: '10,20,30',
      MAILPROOF_AUTO_SUSPEND_SECONDS: '60',
    });
    expect(config.rateLimits.email).toEqual({ points: 3, durationSeconds: 60 });
    expect(config.rateLimits.client).toBeNull();
    expect(config.autoSuspend).toEqual({
      thresholds: { verify_failed: 10, issued: 20, distinct_recipients: 30 },
      suspendSeconds: 60,
    });
    expect(loadConfig({ MAILPROOF_AUTO_SUSPEND: 'off' }).autoSuspend).toBeNull();
  });

  it.each([
    ['MAILPROOF_RATE_LIMIT_EMAIL', '5 per hour'],
    ['MAILPROOF_RATE_LIMIT_VERIFY_FAILURES', '0/60'],
    ['MAILPROOF_AUTO_SUSPEND', 'sometimes'],
    ['MAILPROOF_AUTO_SUSPEND', '1,2'],
    ['MAILPROOF_AUTO_SUSPEND_SECONDS', '0'],
    ['MAILPROOF_MAX_EVENT_LOOP_DELAY_MS', 'fast'],
    ['MAILPROOF_WAIT_FOR_DATABASE', 'perhaps'],
    ['MAILPROOF_DATABASE_PREPARED_STATEMENTS', 'sometimes'],
  ])('refuses %s=%s naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^${variable}: `));
  });
});
