/**
 * Helpers shared by the route tests under test/http/{api,pages,ops}: unique inputs, calls
 * through `app.inject()`, reading tokens from caught mails, and the contract's shapes.
 */
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { CaughtMail } from '../../../src/mail/dev-catcher.js';
import type { TestService } from '../../support/service.js';

let counter = 0;

/** An address no other test uses (lower case, so envelope matching is exact). */
export function uniqueEmail(tag: string): string {
  counter += 1;
  return `${tag}-${counter}-${randomBytes(3).toString('hex')}@example.com`;
}

/** A subject no other test uses. */
export function uniqueSubject(tag: string): string {
  counter += 1;
  return `user-${tag}-${counter}-${randomBytes(3).toString('hex')}`;
}

/** `POST /v1/verifications` with the API key. */
export function postVerification(
  t: TestService,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/v1/verifications',
    headers: { ...t.auth, ...headers },
    ...(body === undefined ? {} : { payload: body as object }),
  });
}

/** `POST /v1/verify` with `{token}`. */
export function postVerify(t: TestService, token: unknown): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/v1/verify', payload: { token } });
}

/** `POST /v1/resend` with `{email}`. */
export function postResend(t: TestService, email: unknown): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/v1/resend', payload: { email } });
}

/** `GET /v1/verifications/:id` with the API key. */
export function getStatus(t: TestService, id: string): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'GET',
    url: `/v1/verifications/${encodeURIComponent(id)}`,
    headers: t.auth,
  });
}

/** `DELETE /v1/verifications/:id` with the API key. */
export function deleteVerification(t: TestService, id: string): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'DELETE',
    url: `/v1/verifications/${encodeURIComponent(id)}`,
    headers: t.auth,
  });
}

/** A form-encoded POST, as a browser sends it. */
export function postForm(
  t: TestService,
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'text/html',
      ...headers,
    },
    payload: new URLSearchParams(fields).toString(),
  });
}

/** The next mail to `email` not in `seen` (which it joins). */
export async function nextMail(
  t: TestService,
  email: string,
  seen: Set<string> = new Set(),
): Promise<CaughtMail> {
  const catcher = t.service.devCatcher;
  if (!catcher) throw new Error('the test service has no dev catcher');
  const mail = await catcher.waitFor(
    (m) => m.to.some((to) => to.toLowerCase() === email.toLowerCase()) && !seen.has(m.id),
    5000,
  );
  seen.add(mail.id);
  return mail;
}

/** The token of the first link in `mail`. */
export function tokenOf(mail: CaughtMail): string {
  const link = mail.links[0];
  if (!link) throw new Error(`mail ${mail.id} has no verification link`);
  const token = new URL(link).searchParams.get('token');
  if (!token) throw new Error(`the link ${link} has no token`);
  return token;
}

/** What `issueWithToken` returns: the 202 body and the token mailed for it. */
export interface Issued {
  id: string;
  email: string;
  expiresAt: string;
  strategy: string;
  token: string;
  mail: CaughtMail;
}

/** Issues a verification (202 expected) and reads its token from the caught mail. */
export async function issueWithToken(
  t: TestService,
  body: { email: string; subject?: string; purpose?: string },
  seen: Set<string> = new Set(),
): Promise<Issued> {
  const res = await postVerification(t, body);
  expect(res.statusCode, res.body).toBe(202);
  const issued = res.json() as Omit<Issued, 'token' | 'mail'>;
  const mail = await nextMail(t, body.email, seen);
  return { ...issued, token: tokenOf(mail), mail };
}

/** Asserts the contract's error: the status, JSON `{error: {code, message}}` and nothing else. */
export function expectError(res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json() as { error?: { code?: unknown; message?: unknown } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error ?? {}).sort()).toEqual(['code', 'message']);
  expect(body.error?.code).toBe(code);
  expect(typeof body.error?.message).toBe('string');
  expect(String(body.error?.message).length).toBeGreaterThan(0);
  if (status === 429 || status === 503) expectRetryAfter(res);
}

/** Asserts a `Retry-After` of a whole, positive number of seconds. */
export function expectRetryAfter(res: LightMyRequestResponse): number {
  const value = res.headers['retry-after'];
  expect(value, `Retry-After on ${res.statusCode}`).toMatch(/^[1-9][0-9]*$/);
  return Number(value);
}

/** The security headers every page carries. */
export function expectPageHeaders(res: LightMyRequestResponse): void {
  const csp = String(res.headers['content-security-policy'] ?? '');
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("base-uri 'none'");
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['cache-control']).toBe('no-store');
}

/**
 * Asserts a complete HTML page (never JSON, never blank) with `status`, the security
 * headers and an `<h1>` containing `heading`; returns the HTML.
 */
export function expectPage(res: LightMyRequestResponse, status: number, heading?: string): string {
  expect(res.statusCode, res.body.slice(0, 500)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^text\/html/);
  expectPageHeaders(res);
  const page = res.body;
  expect(page.startsWith('<!doctype html>')).toBe(true);
  expect(page).toContain('</html>');
  expect(() => JSON.parse(page)).toThrow();
  const h1 = /<h1>([\s\S]*?)<\/h1>/.exec(page)?.[1];
  expect(h1, 'the page has a heading').toBeTruthy();
  if (heading !== undefined) expect(h1).toContain(heading);
  if (status === 429 || status === 503) expectRetryAfter(res);
  return page;
}

/** The `<form>`s of a page with their action and content. */
export function formsOf(page: string): { action: string; method: string; body: string }[] {
  return [...page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map((m) => ({
    action: /\saction="([^"]*)"/.exec(m[1]!)?.[1] ?? '',
    method: /\smethod="([^"]*)"/.exec(m[1]!)?.[1] ?? '',
    body: m[2]!,
  }));
}

/** The value of the hidden `token` field of a page's form posting to /verify. */
export function hiddenToken(page: string): string | undefined {
  const form = formsOf(page).find((f) => f.action === '/verify' && f.method === 'post');
  const value = form && /<input type="hidden" name="token" value="([^"]*)">/.exec(form.body)?.[1];
  return value === undefined || value === null ? undefined : unescapeHtml(value);
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Runs `work` with the frozen clock, then puts it back where it was. */
export async function withClock<T>(t: TestService, work: () => Promise<T>): Promise<T> {
  const start = t.clock.now();
  try {
    return await work();
  } finally {
    t.clock.set(start);
  }
}

/** A day and a minute, in ms: past every default token lifetime. */
export const PAST_TTL_MS = (86_400 + 60) * 1000;

/** Flips one character of a JWT's signature (in the middle, so the bytes really change). */
export function forgeJwt(token: string): string {
  const parts = token.split('.');
  expect(parts).toHaveLength(3);
  const signature = parts[2]!;
  const at = Math.floor(signature.length / 2);
  const flipped = signature[at] === 'A' ? 'B' : 'A';
  return [parts[0], parts[1], signature.slice(0, at) + flipped + signature.slice(at + 1)].join('.');
}

/** Changes one character of an opaque token (keeping its shape, so only the store can say no). */
export function forgeOpaque(token: string): string {
  const at = Math.floor(token.length / 2);
  const flipped = token[at] === 'A' ? 'B' : 'A';
  return token.slice(0, at) + flipped + token.slice(at + 1);
}

/** A forged token of the service's strategy. */
export function forge(strategy: string, token: string): string {
  return strategy === 'jwt' ? forgeJwt(token) : forgeOpaque(token);
}

/** ISO 8601 as `Date#toISOString` writes it. */
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
