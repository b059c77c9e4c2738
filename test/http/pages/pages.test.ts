/**
 * The pages a person sees, through `app.inject()`: the confirm page behind every link (GET
 * and HEAD consume nothing), the outcomes of its button with the API's status codes, the
 * demo sign-up and resend forms, the dev inbox, 404s, and the headers every page carries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strategyNames } from '../../support/lifecycle.js';
import { openTestService, type TestService } from '../../support/service.js';
import { storeKinds } from '../../support/stores.js';
import {
  deleteVerification,
  expectError,
  expectPage,
  expectPageHeaders,
  forge,
  formsOf,
  getStatus,
  hiddenToken,
  issueWithToken,
  nextMail,
  postForm,
  postVerification,
  postVerify,
  tokenOf,
  uniqueEmail,
  uniqueSubject,
  withClock,
} from '../api/helpers.js';

/** Asserts the page offers the form that asks for a new link. */
function expectResendForm(page: string): void {
  const form = formsOf(page).find((f) => f.action === '/resend');
  expect(form, 'a form posting to /resend').toBeDefined();
  expect(form!.method).toBe('post');
  expect(form!.body).toMatch(/<input [^>]*name="email"/);
  expect(form!.body).toMatch(/<button type="submit"/);
}

describe.each(storeKinds)('pages on $name', (kind) => {
  describe.each(strategyNames)('%s strategy', (strategy) => {
    let t: TestService;
    beforeAll(async () => {
      t = await openTestService({ kind, strategy });
    });
    afterAll(async () => {
      await t?.close();
    });

    const getPage = (url: string, method: 'GET' | 'HEAD' = 'GET') =>
      t.app.inject({ method, url, headers: { accept: 'text/html' } });

    describe('GET /verify?token=…', () => {
      it('shows the confirm page: one POST form with the token in a hidden field', async () => {
        const issued = await issueWithToken(t, { email: uniqueEmail('confirm') });
        const page = expectPage(
          await getPage(`/verify?token=${issued.token}`),
          200,
          'Confirm your email address',
        );
        const forms = formsOf(page);
        expect(forms).toHaveLength(1);
        expect(forms[0]!.action).toBe('/verify');
        expect(forms[0]!.method).toBe('post');
        expect(hiddenToken(page)).toBe(issued.token);
        expect(forms[0]!.body.match(/<button/g)).toHaveLength(1);
      });

      it('consumes nothing on GET or HEAD: the verification stays pending and the token works once', async () => {
        const issued = await issueWithToken(t, { email: uniqueEmail('scanner') });
        for (let i = 0; i < 3; i += 1) {
          expect((await getPage(`/verify?token=${issued.token}`)).statusCode).toBe(200);
          const head = await getPage(`/verify?token=${issued.token}`, 'HEAD');
          expect(head.statusCode).toBe(200);
          expect(head.body).toBe('');
          expectPageHeaders(head);
        }
        expect((await getStatus(t, issued.id)).json().status).toBe('pending');
        expect((await postVerify(t, issued.token)).json().status).toBe('verified');
      });

      it('works for the link exactly as mailed', async () => {
        const issued = await issueWithToken(t, { email: uniqueEmail('mailed-link') });
        const link = new URL(issued.mail.links[0]!);
        const page = expectPage(await getPage(`${link.pathname}${link.search}`), 200);
        expect(hiddenToken(page)).toBe(issued.token);
      });

      it('escapes whatever token it is given', async () => {
        const token = '"><script>alert(1)</script>';
        const page = expectPage(await getPage(`/verify?token=${encodeURIComponent(token)}`), 200);
        expect(page).not.toContain('<script>alert(1)');
        expect(hiddenToken(page)).toBe(token);
      });

      it.each([
        ['no token', '/verify'],
        ['an empty token', '/verify?token='],
      ])('answers 400 with the invalid-link page for %s', async (_name, url) => {
        const page = expectPage(await getPage(url), 400, 'This link doesn’t work');
        expectResendForm(page);
        // Without Accept: text/html too: a link opened by any client gets the page.
        expectPage(await t.app.inject({ method: 'GET', url }), 400);
      });

      it('answers two tokens with a 400 page', async () => {
        expectPage(await getPage('/verify?token=a&token=b'), 400);
      });

      it('answers a URL it cannot decode with a 400 page, headers included', async () => {
        expectPage(await getPage('/verify%zz?token=x'), 400);
        expectPage(await getPage('/verify?token=%E0%A4%A'), 200);
      });
    });

    describe('POST /verify (form)', () => {
      it('200: verified, then already verified, with the API’s statuses', async () => {
        const email = uniqueEmail('form-verify');
        const issued = await issueWithToken(t, { email, subject: uniqueSubject('form') });
        const first = expectPage(
          await postForm(t, '/verify', { token: issued.token }),
          200,
          'Your email address is confirmed',
        );
        expect(first).toContain(email);
        expect((await getStatus(t, issued.id)).json().status).toBe('verified');

        const again = expectPage(
          await postForm(t, '/verify', { token: issued.token }),
          200,
          'This address is already confirmed',
        );
        expect(again).toContain(email);
      });

      it('the confirm page’s own form verifies', async () => {
        const issued = await issueWithToken(t, { email: uniqueEmail('roundtrip') });
        const confirm = (await getPage(`/verify?token=${issued.token}`)).body;
        const form = formsOf(confirm)[0]!;
        const res = await postForm(t, form.action, { token: hiddenToken(confirm)! });
        expectPage(res, 200, 'Your email address is confirmed');
      });

      it('400: the invalid-link page, with a form for a new link', async () => {
        for (const token of ['', 'garbage', 'x'.repeat(5000)]) {
          const page = expectPage(
            await postForm(t, '/verify', { token }),
            400,
            'This link doesn’t work',
          );
          expectResendForm(page);
        }
        const issued = await issueWithToken(t, { email: uniqueEmail('form-forged') });
        expectPage(
          await postForm(t, '/verify', { token: forge(strategy, issued.token) }),
          400,
          'This link doesn’t work',
        );
      });

      it('400: the invalid-link page when the token field is missing', async () => {
        expectPage(await postForm(t, '/verify', {}), 400);
        expectPage(await postForm(t, '/verify', { other: 'x' }), 400);
      });

      it('410: the expired page, with a form for a new link', async () => {
        const issued = await issueWithToken(t, { email: uniqueEmail('form-expired') });
        await withClock(t, async () => {
          t.clock.set(Date.parse(issued.expiresAt) + 1);
          const page = expectPage(
            await postForm(t, '/verify', { token: issued.token }),
            410,
            'This link has expired',
          );
          expectResendForm(page);
        });
      });

      it('410: the revoked page after DELETE and after supersession, with a form for a new link', async () => {
        const deleted = await issueWithToken(t, { email: uniqueEmail('form-deleted') });
        await deleteVerification(t, deleted.id);
        expectResendForm(
          expectPage(
            await postForm(t, '/verify', { token: deleted.token }),
            410,
            'This link is no longer active',
          ),
        );

        const email = uniqueEmail('form-superseded');
        const seen = new Set<string>();
        const older = await issueWithToken(t, { email }, seen);
        await issueWithToken(t, { email }, seen);
        expectResendForm(
          expectPage(
            await postForm(t, '/verify', { token: older.token }),
            410,
            'This link is no longer active',
          ),
        );
      });

      it('answers a page, never JSON, whatever is posted', async () => {
        const cases = [
          { type: 'application/json', payload: '{"token": 5}' },
          { type: 'application/json', payload: '{not json' },
          { type: 'text/plain', payload: 'token=x' },
          { type: 'application/xml', payload: '<token/>' },
          { type: 'application/x-www-form-urlencoded', payload: 'token=a&token=b' },
          { type: 'application/x-www-form-urlencoded', payload: '%%%' },
        ];
        for (const { type, payload } of cases) {
          const res = await t.app.inject({
            method: 'POST',
            url: '/verify',
            headers: { 'content-type': type },
            payload,
          });
          expect(res.statusCode, `${type} ${payload}`).toBeGreaterThanOrEqual(400);
          expect(res.statusCode, `${type} ${payload}`).toBeLessThan(500);
          expectPage(res, res.statusCode);
        }
      });

      it('413: a page for a form over 16 KiB', async () => {
        const res = await postForm(t, '/verify', { token: 'x', pad: 'p'.repeat(17 * 1024) });
        expectPage(res, 413);
      });
    });

    describe('the demo sign-up', () => {
      it('GET / shows the sign-up form, with a link to the dev inbox', async () => {
        const page = expectPage(await getPage('/'), 200, 'Prove an email address is yours');
        const form = formsOf(page).find((f) => f.action === '/signup');
        expect(form?.method).toBe('post');
        expect(form?.body).toMatch(/<input [^>]*name="email"/);
        expect(page).toContain('href="/dev/inbox"');
      });

      it('POST /signup shows the check-inbox page and a mail arrives', async () => {
        const email = uniqueEmail('signup');
        const page = expectPage(await postForm(t, '/signup', { email }), 200, 'Check your inbox');
        expect(page).toContain(email);
        const mail = await nextMail(t, email);
        const token = tokenOf(mail);
        expectPage(await postForm(t, '/verify', { token }), 200, 'Your email address is confirmed');
      });

      it.each([
        ['a display name', 'Bob <bob@example.com>'],
        ['two addresses', 'a@example.com, b@example.com'],
        ['no @', 'nobody'],
        ['nothing', ''],
      ])(
        'POST /signup with %s: 400 and the form again, prefilled and escaped',
        async (_n, email) => {
          const page = expectPage(
            await postForm(t, '/signup', { email }),
            400,
            'Prove an email address is yours',
          );
          const form = formsOf(page).find((f) => f.action === '/signup');
          expect(form).toBeDefined();
          expect(page).toContain('class="error"');
          expect(page).not.toContain('<bob@');
        },
      );

      it('POST /signup without a field is a 400 page', async () => {
        expectPage(await postForm(t, '/signup', {}), 400);
      });
    });

    describe('POST /resend (form)', () => {
      it('shows the check-inbox page and mails a fresh link for a pending address', async () => {
        const email = uniqueEmail('form-resend');
        const seen = new Set<string>();
        const issued = await issueWithToken(t, { email }, seen);
        const page = expectPage(await postForm(t, '/resend', { email }), 200, 'Check your inbox');
        expect(page).toContain(email);
        const fresh = tokenOf(await nextMail(t, email, seen));
        expect(fresh).not.toBe(issued.token);
      });

      it('shows the same page for an unknown address', async () => {
        const known = uniqueEmail('form-resend-known');
        await postVerification(t, { email: known });
        const unknown = uniqueEmail('form-resend-unknown');
        const a = await postForm(t, '/resend', { email: known });
        const b = await postForm(t, '/resend', { email: unknown });
        expectPage(a, 200, 'Check your inbox');
        expectPage(b, 200, 'Check your inbox');
        expect(a.body.replace(known, '')).toBe(b.body.replace(unknown, ''));
      });

      it('answers 400 with a page for a bad address', async () => {
        expectPage(await postForm(t, '/resend', { email: 'not an address' }), 400);
        expectPage(await postForm(t, '/resend', {}), 400);
      });

      it('the resend form of the expired page works', async () => {
        const email = uniqueEmail('expired-resend');
        const seen = new Set<string>();
        const issued = await issueWithToken(t, { email }, seen);
        await withClock(t, async () => {
          t.clock.set(Date.parse(issued.expiresAt) + 1);
          const page = (await postForm(t, '/verify', { token: issued.token })).body;
          const form = formsOf(page).find((f) => f.action === '/resend')!;
          expectPage(await postForm(t, form.action, { email }), 200, 'Check your inbox');
        });
      });
    });

    describe('GET /dev/inbox', () => {
      it('lists the caught mails newest first, with clickable links', async () => {
        const older = uniqueEmail('inbox-older');
        const newer = uniqueEmail('inbox-newer');
        const first = await issueWithToken(t, { email: older });
        t.clock.advance(1000);
        const second = await issueWithToken(t, { email: newer });

        const page = expectPage(await getPage('/dev/inbox'), 200, 'Dev inbox');
        const olderAt = page.indexOf(older);
        const newerAt = page.indexOf(newer);
        expect(olderAt).toBeGreaterThan(-1);
        expect(newerAt).toBeGreaterThan(-1);
        expect(newerAt).toBeLessThan(olderAt);
        for (const { token } of [first, second]) {
          expect(page).toContain(`<a href="http://mailproof.test/verify?token=${token}">`);
        }
      });
    });

    describe('not found', () => {
      it('answers an unknown route with the 404 page for browsers', async () => {
        for (const url of ['/nope', '/verify/extra', '/dev', '/assets/style.css']) {
          expectPage(await getPage(url), 404, 'We can’t find that page');
        }
        const post = await t.app.inject({
          method: 'POST',
          url: '/nope',
          headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'a=b',
        });
        expectPage(post, 404);
      });

      it('answers an unknown route with 404 JSON not_found otherwise', async () => {
        expectError(await t.app.inject({ method: 'GET', url: '/nope' }), 404, 'not_found');
        expectError(
          await t.app.inject({
            method: 'GET',
            url: '/nope',
            headers: { accept: 'application/json' },
          }),
          404,
          'not_found',
        );
      });
    });

    describe('every page', () => {
      it('carries the security headers, and links a stylesheet that resolves', async () => {
        const issued = await issueWithToken(t, { email: uniqueEmail('headers') });
        const pages = [
          await getPage('/'),
          await getPage(`/verify?token=${issued.token}`),
          await getPage('/verify'),
          await getPage('/dev/inbox'),
          await getPage('/nope'),
          await postForm(t, '/verify', { token: 'bad' }),
          await postForm(t, '/signup', { email: 'bad' }),
          await postForm(t, '/resend', { email: uniqueEmail('headers') }),
        ];
        const hrefs = new Set<string>();
        for (const res of pages) {
          expectPage(res, res.statusCode);
          const href = /<link rel="stylesheet" href="([^"]+)">/.exec(res.body)?.[1];
          expect(href).toBeDefined();
          hrefs.add(href!);
        }
        expect(hrefs.size).toBe(1);
        const css = await t.app.inject({ method: 'GET', url: [...hrefs][0]! });
        expect(css.statusCode).toBe(200);
        expect(css.headers['content-type']).toMatch(/^text\/css/);
        expect(css.body.length).toBeGreaterThan(100);
      });
    });
  });
});

describe.each(storeKinds)('pages with an SMTP URL configured on $name', (kind) => {
  let t: TestService;
  beforeAll(async () => {
    t = await openTestService({
      kind,
      strategy: 'opaque',
      env: { MAILPROOF_SMTP_URL: 'smtp://127.0.0.1:1' },
      startWorker: false,
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('has no dev inbox: 404 page for browsers, 404 JSON otherwise', async () => {
    expect(t.service.devCatcher).toBeNull();
    expectPage(
      await t.app.inject({ method: 'GET', url: '/dev/inbox', headers: { accept: 'text/html' } }),
      404,
    );
    expectError(await t.app.inject({ method: 'GET', url: '/dev/inbox' }), 404, 'not_found');
  });

  it('does not link to it from the sign-up and check-inbox pages', async () => {
    const home = expectPage(await t.app.inject({ method: 'GET', url: '/' }), 200);
    expect(home).not.toContain('/dev/inbox');
    const inbox = expectPage(await postForm(t, '/signup', { email: uniqueEmail('smtp') }), 200);
    expect(inbox).not.toContain('/dev/inbox');
  });
});
