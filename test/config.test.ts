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
    });
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
