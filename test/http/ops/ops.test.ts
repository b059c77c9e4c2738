/**
 * Operations: /healthz, /readyz, /metrics and the JWKS; the 503s a broken dependency
 * produces (each with Retry-After); and tokens never reaching a log line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { UnavailableError } from '../../../src/core/errors.js';
import { buildApp } from '../../../src/http/app.js';
import { createLogger } from '../../../src/service/logger.js';
import { openService, type Service } from '../../../src/service/service.js';
import { FrozenClock } from '../../support/clock.js';
import { strategyNames } from '../../support/lifecycle.js';
import { openTestService, TEST_API_KEY, type TestService } from '../../support/service.js';
import { type PreparedDatabase, storeKinds } from '../../support/stores.js';
import {
  expectError,
  expectPage,
  forge,
  hiddenToken,
  issueWithToken,
  nextMail,
  postForm,
  postResend,
  postVerification,
  postVerify,
  tokenOf,
  uniqueEmail,
} from '../api/helpers.js';

describe.each(storeKinds)('operations on $name', (kind) => {
  describe.each(strategyNames)('%s strategy', (strategy) => {
    let t: TestService;
    beforeAll(async () => {
      t = await openTestService({ kind, strategy });
    });
    afterEach(() => {
      vi.restoreAllMocks();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('GET /healthz answers 200', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
    });

    it('GET /readyz answers 200 while the database answers', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode, res.body).toBe(200);
    });

    it('GET /metrics answers Prometheus text with every metric the contract names', async () => {
      const email = uniqueEmail('metrics');
      const issued = await issueWithToken(t, { email });
      await postVerify(t, issued.token);
      await postVerify(t, 'not-a-token');

      // The catcher has the mail a moment before the worker counts it as sent.
      const res = await vi.waitFor(
        async () => {
          const scrape = await t.app.inject({ method: 'GET', url: '/metrics' });
          expect(scrape.body).toMatch(/^mailproof_mails_sent_total [1-9]/m);
          return scrape;
        },
        { timeout: 5000, interval: 20 },
      );
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const text = res.body;
      const sample = (pattern: string) => new RegExp(`^${pattern} ([0-9.e+-]+)$`, 'm');
      const positive = (pattern: string) => {
        const value = sample(pattern).exec(text)?.[1];
        expect(value, pattern).toBeDefined();
        expect(Number(value), pattern).toBeGreaterThan(0);
      };
      // Requests, by method, route and status; and their durations.
      positive(
        'mailproof_http_requests_total\\{method="POST",route="/v1/verifications",status="202"\\}',
      );
      expect(text).toMatch(/^mailproof_http_request_duration_seconds_bucket\{/m);
      // Issued and verified, by strategy and outcome.
      positive(`mailproof_verifications_issued_total\\{strategy="${strategy}"\\}`);
      positive(
        `mailproof_verifications_verified_total\\{strategy="${strategy}",outcome="verified"\\}`,
      );
      positive(
        `mailproof_verifications_verified_total\\{strategy="${strategy}",outcome="invalid"\\}`,
      );
      // Mails sent and failed, and the outbox depth.
      positive('mailproof_mails_sent_total');
      expect(text).toMatch(/^# TYPE mailproof_mails_failed_total counter$/m);
      expect(text).toMatch(sample('mailproof_outbox_depth\\{state="pending"\\}'));
      expect(text).toMatch(sample('mailproof_outbox_depth\\{state="dead"\\}'));
      // Rate limits and suspensions.
      expect(text).toMatch(/^# TYPE mailproof_rate_limited_total counter$/m);
      expect(text).toMatch(/^# TYPE mailproof_suspensions_total counter$/m);
      expect(text).toMatch(sample('mailproof_suspended_refusals_total'));
      expect(text).toMatch(sample('mailproof_suspended'));
      // Event-loop delay.
      expect(text).toMatch(sample('mailproof_nodejs_eventloop_lag_seconds'));
    });

    it('GET /.well-known/jwks.json answers the public keys that verify minted tokens', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const jwks = res.json() as JSONWebKeySet;
      if (strategy === 'opaque') {
        expect(jwks).toEqual({ keys: [] });
        return;
      }
      expect(jwks.keys.length).toBeGreaterThan(0);
      for (const key of jwks.keys) {
        expect(typeof key.kid).toBe('string');
        expect(key.kid!.length).toBeGreaterThan(0);
        expect(key.kty).toBe('OKP');
        expect(key.crv).toBe('Ed25519');
        expect(typeof key.x).toBe('string');
        expect(key).not.toHaveProperty('d');
        expect(key).not.toHaveProperty('p');
      }

      const issued = await issueWithToken(t, { email: uniqueEmail('jwks') });
      const options = { issuer: t.config.jwtIssuer, audience: t.config.jwtAudience };
      const { payload, protectedHeader } = await jwtVerify(
        issued.token,
        createLocalJWKSet(jwks),
        options,
      );
      expect(protectedHeader.alg).toBe('EdDSA');
      expect(jwks.keys.map((k) => k.kid)).toContain(protectedHeader.kid);
      // `exp` is in whole seconds.
      expect(payload.exp).toBe(Math.floor(Date.parse(issued.expiresAt) / 1000));
      await expect(
        jwtVerify(forge(strategy, issued.token), createLocalJWKSet(jwks), options),
      ).rejects.toThrow();
    });

    describe('when the database fails', () => {
      const down = () => new UnavailableError('database down (test)');

      it('GET /readyz answers 503 unavailable with Retry-After', async () => {
        vi.spyOn(t.service.store, 'ping').mockRejectedValue(down());
        expectError(await t.app.inject({ method: 'GET', url: '/readyz' }), 503, 'unavailable');
        expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      });

      it('issuing, verifying and resending answer 503 unavailable with Retry-After', async () => {
        const email = uniqueEmail('db-down');
        const issued = await issueWithToken(t, { email });
        vi.spyOn(t.service.store, 'createVerification').mockRejectedValue(down());
        vi.spyOn(t.service.store, 'consumeToken').mockRejectedValue(down());
        vi.spyOn(t.service.store, 'findPendingByEmail').mockRejectedValue(down());
        vi.spyOn(t.service.store, 'getVerification').mockRejectedValue(down());

        expectError(
          await postVerification(t, { email: uniqueEmail('db-down') }),
          503,
          'unavailable',
        );
        expectError(await postVerify(t, issued.token), 503, 'unavailable');
        expectError(await postResend(t, email), 503, 'unavailable');
        expectError(
          await t.app.inject({
            method: 'GET',
            url: `/v1/verifications/${issued.id}`,
            headers: t.auth,
          }),
          503,
          'unavailable',
        );

        // The person with the link gets the unavailable page, and can try the same link again.
        const page = expectPage(await postForm(t, '/verify', { token: issued.token }), 503);
        expect(hiddenToken(page)).toBe(issued.token);
        expectPage(await postForm(t, '/signup', { email: uniqueEmail('db-down') }), 503);
        expectPage(await postForm(t, '/resend', { email }), 503);

        vi.restoreAllMocks();
        expect((await postVerify(t, issued.token)).json().status).toBe('verified');
      });

      it('an unreadable suspend switch refuses with 503 (fail closed), with Retry-After', async () => {
        const issued = await issueWithToken(t, { email: uniqueEmail('switch-down') });
        vi.spyOn(t.service.store, 'readSuspension').mockRejectedValue(down());
        await t.service.suspendSwitch.refresh();
        try {
          const refused = await postVerification(t, { email: uniqueEmail('switch-down') });
          expect(refused.statusCode).toBe(503);
          expectError(refused, 503, refused.json().error.code);
          expect(['unavailable', 'suspended']).toContain(refused.json().error.code);
          expectError(await postVerify(t, issued.token), 503, refused.json().error.code);
          expectPage(await postForm(t, '/verify', { token: issued.token }), 503);
        } finally {
          vi.restoreAllMocks();
          await t.service.suspendSwitch.refresh();
        }
        expect((await postVerify(t, issued.token)).json().status).toBe('verified');
      });
    });
  });
});

/** A service like `openTestService`'s, but logging at info into memory. */
async function openLoggedService(
  kind: (typeof storeKinds)[number],
  strategy: (typeof strategyNames)[number],
): Promise<{
  app: FastifyInstance;
  service: Service;
  logs: string[];
  close(): Promise<void>;
}> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mailproof-logs-'));
  const database: PreparedDatabase = await kind.prepare();
  const config = loadConfig({
    MAILPROOF_DATA_DIR: dataDir,
    MAILPROOF_DATABASE_URL: database.databaseUrl,
    MAILPROOF_STRATEGY: strategy,
    MAILPROOF_API_KEY: TEST_API_KEY,
    MAILPROOF_PUBLIC_URL: 'http://mailproof.test',
  });
  const logs: string[] = [];
  const service = await openService(config, {
    logger: createLogger('trace', { write: (line: string) => void logs.push(line) }),
    clock: new FrozenClock(Date.now()),
  });
  const app = await buildApp(service);
  await app.ready();
  return {
    app,
    service,
    logs,
    close: async () => {
      await app.close();
      await service.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describe.each(storeKinds)('logs on $name', (kind) => {
  describe.each(strategyNames)('%s strategy', (strategy) => {
    let s: Awaited<ReturnType<typeof openLoggedService>>;
    beforeAll(async () => {
      s = await openLoggedService(kind, strategy);
    });
    afterEach(() => {
      vi.restoreAllMocks();
    });
    afterAll(async () => {
      await s?.close();
    });

    it('never contain a token, whichever way it travels', async () => {
      const t = {
        app: s.app,
        service: s.service,
        auth: { authorization: `Bearer ${TEST_API_KEY}` },
      } as unknown as TestService;
      const email = uniqueEmail('logs');
      const seen = new Set<string>();
      const issued = await issueWithToken(t, { email }, seen);
      const { token } = issued;
      // A resent link, while the verification is pending.
      await postResend(t, email);
      const resent = tokenOf(await nextMail(t, email, seen));

      const get = await s.app.inject({ method: 'GET', url: `/verify?token=${token}` });
      expect(get.statusCode).toBe(200);
      await s.app.inject({ method: 'HEAD', url: `/verify?token=${token}&utm=mail` });
      await s.app.inject({ method: 'GET', url: `/verify?a=1&token=${token}#frag` });
      await s.app.inject({ method: 'GET', url: `/verify%zz?token=${token}` });
      await s.app.inject({ method: 'GET', url: `/nope?token=${token}` });
      // A broken database logs its error with the request: still no token.
      vi.spyOn(s.service.store, 'consumeToken').mockRejectedValue(new UnavailableError('down'));
      expect((await postForm(t, '/verify', { token })).statusCode).toBe(503);
      vi.restoreAllMocks();
      expect((await postForm(t, '/verify', { token })).statusCode).toBe(200);
      expect((await postVerify(t, token)).statusCode).toBe(200);

      await s.app.inject({ method: 'GET', url: `/verify?token=${resent}` });
      await postVerify(t, forge(strategy, resent));

      const text = s.logs.join('');
      expect(text).toContain('token=[redacted]');
      for (const secret of [token, resent, forge(strategy, resent), TEST_API_KEY]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice(-16));
      }
    });
  });
});

describe.each(storeKinds)('shutting down on $name', (kind) => {
  it('answers a request that arrives while closing with 503 unavailable and Retry-After', async () => {
    const t = await openTestService({ kind, strategy: 'opaque' });
    try {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as AddressInfo;
      // One request in flight, slow enough that close() starts while it runs.
      const ping = t.service.store.ping.bind(t.service.store);
      vi.spyOn(t.service.store, 'ping').mockImplementation(async () => {
        await sleep(300);
        return ping();
      });
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
      });
      const ended = new Promise((resolve) => socket.on('close', resolve));
      await new Promise((resolve) => socket.on('connect', resolve));
      socket.write('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
      await sleep(50);
      const closing = t.app.close();
      // The next request on the same keep-alive connection arrives after close() began.
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await closing;
      await Promise.race([ended, sleep(2000)]);
      socket.destroy();

      const responses = received.split(/(?=HTTP\/1\.1 )/);
      expect(responses).toHaveLength(2);
      expect(responses[0]).toMatch(/^HTTP\/1\.1 200 /);
      const [head, body] = responses[1]!.split('\r\n\r\n') as [string, string];
      expect(head).toMatch(/^HTTP\/1\.1 503 /);
      expect(head).toMatch(/\r\nretry-after: [1-9][0-9]*\r\n/i);
      expect(JSON.parse(body)).toMatchObject({ error: { code: 'unavailable' } });
    } finally {
      vi.restoreAllMocks();
      await t.close();
    }
  });
});
