/**
 * Malformed input on the JSON API: every bad-email class is 400 `invalid_email`, wrong
 * types and non-JSON bodies are 400 `invalid_request`, over 16 KiB is 413
 * `payload_too_large`, and nothing, however malformed, is a 500.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strategyNames } from '../../support/lifecycle.js';
import { openTestService, type TestService } from '../../support/service.js';
import { storeKinds } from '../../support/stores.js';
import { expectError, postVerification, uniqueSubject } from './helpers.js';

const longLocal = `${'a'.repeat(65)}@example.com`;
// 254 octets is the most an address may have: each label stays within 63.
const label = 'b'.repeat(60);
const longTotal = `local@${label}.${label}.${label}.${label}.example.com`;

const badEmails: [string, string][] = [
  ['a display name', 'Bob <bob@example.com>'],
  ['a bare angle-bracket address', '<bob@example.com>'],
  ['a quoted display name', '"Bob" <bob@example.com>'],
  ['a comma list', 'a@example.com, b@example.com'],
  ['a comma list without spaces', 'a@example.com,b@example.com'],
  ['a semicolon list', 'a@example.com;b@example.com'],
  ['a CR/LF header injection', 'a@example.com\r\nBcc: victim@example.com'],
  ['a lone LF', 'a@example.com\nb@example.com'],
  ['a lone CR', 'a@exa\rmple.com'],
  ['a NUL', 'a\u0000@example.com'],
  ['a local part over 64 octets', longLocal],
  ['an address over 254 octets', longTotal],
  ['no @', 'example.com'],
  ['two @', 'a@b@example.com'],
  ['an empty local part', '@example.com'],
  ['an empty domain', 'a@'],
  ['an empty string', ''],
  ['only spaces', '   '],
  ['inner spaces', 'a b@example.com'],
];

describe.each(storeKinds)('malformed input on $name', (kind) => {
  describe.each(strategyNames)('%s strategy', (strategy) => {
    let t: TestService;
    beforeAll(async () => {
      t = await openTestService({ kind, strategy });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('sanity: the over-254 address is over 254 octets with every label within 63', () => {
      expect(longTotal.length).toBeGreaterThan(254);
      expect(
        longTotal
          .split('@')[1]!
          .split('.')
          .every((l) => l.length <= 63),
      ).toBe(true);
    });

    it.each(badEmails)('POST /v1/verifications: 400 invalid_email for %s', async (_name, email) => {
      expectError(await postVerification(t, { email }), 400, 'invalid_email');
    });

    it.each<[string, unknown]>([
      ['email: 42', { email: 42 }],
      ['email: null', { email: null }],
      ['email: true', { email: true }],
      ['email: an array', { email: ['a@example.com'] }],
      ['email: an object', { email: { address: 'a@example.com' } }],
      ['no email', { subject: 'x' }],
      ['subject: 7', { email: 'typed-subject@example.com', subject: 7 }],
      ['subject: an object', { email: 'typed-subject@example.com', subject: { id: 1 } }],
      ['purpose: 1', { email: 'typed-purpose@example.com', purpose: 1 }],
      ['an unknown purpose', { email: 'purpose@example.com', purpose: 'login' }],
      ['a purpose in another case', { email: 'purpose@example.com', purpose: 'SIGNUP' }],
      ['a 129-character subject', { email: 'subject@example.com', subject: 's'.repeat(129) }],
      ['a subject with a newline', { email: 'subject@example.com', subject: 'a\nb' }],
      ['an empty object', {}],
      ['an array body', [{ email: 'array@example.com' }]],
      ['an empty array', []],
    ])('POST /v1/verifications: 400 invalid_request for %s', async (_name, body) => {
      expectError(await postVerification(t, body), 400, 'invalid_request');
    });

    const raw = (
      url: string,
      payload: string | undefined,
      contentType: string | undefined,
      auth = true,
    ): InjectOptions => ({
      method: 'POST',
      url,
      headers: {
        ...(auth ? t.auth : {}),
        ...(contentType === undefined ? {} : { 'content-type': contentType }),
      },
      ...(payload === undefined ? {} : { payload }),
    });

    const rawBodies: [string, string | undefined, string | undefined][] = [
      ['a null JSON body', 'null', 'application/json'],
      ['a JSON number', '42', 'application/json'],
      ['a JSON string', '"a@example.com"', 'application/json'],
      ['JSON true', 'true', 'application/json'],
      ['a JSON array', '["a@example.com"]', 'application/json'],
      ['a body that is not JSON', 'email=a@example.com', 'application/json'],
      ['truncated JSON', '{"email": "a@example.com"', 'application/json'],
      ['JSON with a trailing comma', '{"email": "a@example.com",}', 'application/json'],
      ['an empty body with a JSON type', '', 'application/json'],
      ['an empty body without a type', undefined, undefined],
      ['a text/plain body', '{"email":"a@example.com"}', 'text/plain'],
      ['an XML body', '<email>a@example.com</email>', 'application/xml'],
      ['an unknown content type', '{"email":"a@example.com"}', 'application/x-unknown'],
      ['a form body', 'email=a%40example.com', 'application/x-www-form-urlencoded'],
      ['a multipart body', '--x\r\n\r\na\r\n--x--', 'multipart/form-data; boundary=x'],
      ['a malformed content type', '{"email":"a@example.com"}', ';;;'],
      ['a __proto__ key', '{"email":"p@example.com","__proto__":{"x":1}}', 'application/json'],
      [
        'a constructor.prototype key',
        '{"email":"p@example.com","constructor":{"prototype":{"x":1}}}',
        'application/json',
      ],
    ];

    for (const url of ['/v1/verifications', '/v1/verify', '/v1/resend']) {
      it.each(rawBodies)(`POST ${url}: 400 invalid_request for %s`, async (_n, body, type) => {
        const res = await t.app.inject(raw(url, body, type));
        expectError(res, 400, 'invalid_request');
      });

      it(`POST ${url}: 413 payload_too_large over 16 KiB`, async () => {
        const body = JSON.stringify({
          email: 'big@example.com',
          token: 'x',
          padding: 'p'.repeat(17 * 1024),
        });
        const res = await t.app.inject(raw(url, body, 'application/json'));
        expectError(res, 413, 'payload_too_large');
      });

      it(`POST ${url}: accepts a body just under 16 KiB (unknown fields ignored)`, async () => {
        const padding = 'p'.repeat(15 * 1024);
        const body = JSON.stringify({
          email: `near-limit-${uniqueSubject('x')}@example.com`,
          token: 'x',
          padding,
        });
        const res = await t.app.inject(raw(url, body, 'application/json'));
        expect(res.statusCode, res.body).not.toBe(413);
        expect(res.statusCode).toBeLessThan(500);
      });
    }

    it('POST /v1/verify: 400 invalid_request for a token that is not a string', async () => {
      for (const payload of [{ token: 42 }, { token: null }, { token: ['a'] }, { token: {} }, {}]) {
        const res = await t.app.inject({ method: 'POST', url: '/v1/verify', payload });
        expectError(res, 400, 'invalid_request');
      }
    });

    it('answers 404 not_found as JSON for unknown routes and methods under /v1', async () => {
      for (const [method, url] of [
        ['GET', '/v1/nothing'],
        ['GET', '/v1/verify'],
        ['PUT', '/v1/verifications'],
        ['PATCH', '/v1/verifications/vf_x'],
        ['GET', '/v1/admin/suspend'],
      ] as const) {
        const res = await t.app.inject({ method, url, headers: { accept: 'text/html' } });
        expect(res.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${method} ${url}`).toBeLessThan(500);
        expect(res.headers['content-type'], `${method} ${url}`).toMatch(/^application\/json/);
        expect(res.json().error.code).toBeTypeOf('string');
      }
    });

    it('never answers 500, whatever the URL, method, headers or body', async () => {
      const urls = [
        '/v1/verifications',
        '/v1/verify',
        '/v1/resend',
        '/v1/verifications/vf_x',
        '/v1/verifications/%00',
        '/v1/verifications/%E0%A4%A',
        `/v1/verifications/${'q'.repeat(300)}`,
        '/v1/verifications/%F0%9F%99%82',
        '/v1/admin/suspend',
        '/v1/admin/state',
        '/verify?token=%E0%A4%A',
        '/verify?token=a&token=b',
        '/verify%zz',
        '/%',
        '/dev/inbox?x=%',
        '//v1//verifications',
      ];
      const bodies = [
        undefined,
        '{"email":"a@example.com"}',
        '{"email":"a@example.com","subject":"\\u0000","purpose":"signup"}',
        '{"token":"\\u0000"}',
        '{"email":"a\\u0000@example.com"}',
        '{"reason":"\\u0000","seconds":1e400}',
        '{"seconds":1e308}',
        `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`,
        '\u0000\u0001',
      ];
      const types = [undefined, 'application/json', 'application/x-www-form-urlencoded'];
      const failures = new Set<string>();
      for (const url of urls) {
        for (const method of ['GET', 'POST', 'DELETE', 'HEAD', 'OPTIONS'] as const) {
          for (const body of method === 'POST' ? bodies : [undefined]) {
            for (const type of method === 'POST' ? types : [undefined]) {
              for (const auth of [true, false]) {
                const res = await t.app.inject({
                  method,
                  url,
                  headers: {
                    ...(auth ? t.auth : {}),
                    ...(type ? { 'content-type': type } : {}),
                  },
                  ...(body === undefined ? {} : { payload: body }),
                });
                if (res.statusCode >= 500 && res.statusCode !== 503) {
                  failures.add(`${method} ${url} ${type} ${body?.slice(0, 40)}: ${res.statusCode}`);
                }
                if (res.statusCode >= 400 && method !== 'HEAD') {
                  const isJson = /^application\/json/.test(String(res.headers['content-type']));
                  const isHtml = /^text\/html/.test(String(res.headers['content-type']));
                  if (!isJson && !isHtml) failures.add(`${method} ${url}: no JSON or page`);
                  if (isJson && typeof res.json().error?.code !== 'string') {
                    failures.add(`${method} ${url}: ${res.body.slice(0, 200)}`);
                  }
                }
              }
            }
          }
        }
      }
      expect([...failures]).toEqual([]);
    });
  });
});
