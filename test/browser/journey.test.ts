/**
 * The newcomer's journey in a real browser (Chromium through playwright-core) against the
 * real CLI `serve` with no SMTP URL, so mails land in the embedded catcher's `/dev/inbox`.
 * Every page is screenshotted under test-output/browser/ for people to look at.
 *
 * Needs Debian's Chromium at /usr/bin/chromium (or MAILPROOF_TEST_CHROMIUM): without it the suite is skipped with the
 * reason printed, except under `CI=true`, where it fails instead.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, type ServerProcess, startServer } from '../support/server-process.js';
import { storeKinds } from '../support/stores.js';

/** Debian's Chromium; MAILPROOF_TEST_CHROMIUM points elsewhere. */
const CHROMIUM = process.env.MAILPROOF_TEST_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(PROJECT_ROOT, 'test-output', 'browser');
/** The README's picture of the confirm page; rewritten only with MAILPROOF_UPDATE_DOCS=1. */
const DOCS_SHOT = join(PROJECT_ROOT, 'docs', 'confirm-page.png');
const MAX_DOCS_SHOT_BYTES = 150 * 1024;

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  const reason = `${CHROMIUM} not found (apt-get install chromium, or set MAILPROOF_TEST_CHROMIUM)`;
  if (process.env.CI === 'true') throw new Error(`Browser tests must run under CI: ${reason}`);
  console.warn(`Skipping browser tests: ${reason}`);
}

const sqlite = storeKinds.find((kind) => kind.name === 'sqlite')!;

describe.skipIf(!haveChromium)('the newcomer in a browser', () => {
  let server: ServerProcess;
  let drop: () => Promise<void>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Console errors and uncaught exceptions of the current page, as text. */
  let problems: string[] = [];
  /** The browser's own request for /favicon.ico, when it failed (see the last test). */
  const faviconProblems: string[] = [];

  beforeAll(async () => {
    const database = await sqlite.prepare();
    drop = database.drop;
    const [started, launched] = await Promise.all([
      startServer({ databaseUrl: database.databaseUrl, strategy: 'opaque' }),
      chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-quic',
          '--no-first-run',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
    ]);
    server = started;
    browser = launched;
    context = await browser.newContext({
      viewport: { width: 1024, height: 768 },
      colorScheme: 'light',
      locale: 'en-US',
    });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const problem = `console: ${message.text()} [${message.location().url}]`;
      if (new URL(message.location().url || 'about:blank').pathname === '/favicon.ico') {
        faviconProblems.push(problem);
      } else {
        problems.push(problem);
      }
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) =>
      problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
    );
    await mkdir(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    const code = await server?.stop();
    await drop?.();
    expect(code).toBe(0);
  });

  /**
   * Checks the page on screen: its one heading, and that nothing went wrong in the console.
   * A page for a refused request comes with its 4xx/5xx status, which Chromium reports as
   * one "Failed to load resource" line: that one is expected, nothing else is.
   */
  async function expectPage(h1: string, status = 200) {
    const headings = await page.locator('h1').allTextContents();
    expect(headings.map((text) => text.trim())).toEqual([h1]);
    const expected = `console: Failed to load resource: the server responded with a status of ${status}`;
    const unexpected = problems.filter(
      (problem) => status === 200 || !problem.startsWith(expected),
    );
    expect(unexpected).toEqual([]);
    // The stylesheet arrived and applies (a CSP or routing mistake would leave the page
    // unstyled). Expressions as text: this project's TypeScript has no DOM library.
    const styled = await page.evaluate<boolean>(
      'document.styleSheets.length === 1 && document.styleSheets[0].cssRules.length > 0',
    );
    expect(styled).toBe(true);
    problems = [];
  }

  async function shot(name: string) {
    const path = join(SHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  }

  /** Navigates by `action`; resolves once the new document has loaded, with its status. */
  async function navigate(action: () => Promise<unknown>): Promise<number> {
    const [response] = await Promise.all([
      page.waitForResponse(
        (r) => r.request().isNavigationRequest() && r.frame() === page.mainFrame(),
      ),
      page.waitForEvent('load'),
      action(),
    ]);
    return response.status();
  }

  /** The verify link of the newest mail to `email` in /dev/inbox (reloading until it is there). */
  async function linkFromDevInbox(email: string): Promise<string> {
    const mail = page.locator('li.mail').filter({ hasText: email });
    for (let tries = 0; (await mail.count()) === 0; tries++) {
      if (tries === 50) throw new Error(`no mail to ${email} in /dev/inbox`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await page.goto(`${server.url}/dev/inbox`);
    }
    const link = await mail.first().locator('ul.links a').first().getAttribute('href');
    expect(link).toMatch(/\/verify\?token=/);
    return link!;
  }

  async function issue(email: string): Promise<string> {
    const response = await fetch(`${server.url}/v1/verifications`, {
      method: 'POST',
      headers: { ...server.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  const pressConfirm = () =>
    navigate(() => page.getByRole('button', { name: 'Confirm my email address' }).click());

  it('signs up, finds the mail in the dev inbox, confirms, and sees it confirmed', async () => {
    const email = 'newcomer@example.com';
    expect(await navigate(() => page.goto(`${server.url}/`))).toBe(200);
    await expectPage('Prove an email address is yours');
    await shot('signup');

    await page.getByLabel('Email address').fill(email);
    expect(await navigate(() => page.getByRole('button', { name: 'Send me a link' }).click())).toBe(
      200,
    );
    await expectPage('Check your inbox');
    expect(await page.locator('main').textContent()).toContain(email);
    await shot('check-inbox');

    await navigate(() => page.getByRole('link', { name: 'Open the dev inbox' }).click());
    const link = await linkFromDevInbox(email);
    await expectPage('Dev inbox');
    await shot('dev-inbox');

    expect(
      await navigate(() =>
        page.locator('li.mail').filter({ hasText: email }).first().locator('ul.links a').click(),
      ),
    ).toBe(200);
    expect(page.url()).toBe(link);
    await expectPage('Confirm your email address');
    const confirmShot = await shot('confirm');
    expect((await stat(confirmShot)).size).toBeLessThan(MAX_DOCS_SHOT_BYTES);
    if (process.env.MAILPROOF_UPDATE_DOCS === '1') {
      await mkdir(join(PROJECT_ROOT, 'docs'), { recursive: true });
      await copyFile(confirmShot, DOCS_SHOT);
    }
    await page.setViewportSize({ width: 320, height: 640 });
    await shot('confirm-320');
    // Nothing scrolls sideways on a small phone.
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBe(0);
    await page.setViewportSize({ width: 1024, height: 768 });

    expect(await pressConfirm()).toBe(200);
    await expectPage('Your email address is confirmed');
    expect(await page.locator('main').textContent()).toContain(email);
    await shot('verified');
  });

  it('shows the expired page for a link past its lifetime', async () => {
    const email = 'late@example.com';
    const id = await issue(email);
    await page.goto(`${server.url}/dev/inbox`);
    const link = await linkFromDevInbox(email);
    await expectPage('Dev inbox');
    // No waiting a day: the token's lifetime ends in the database itself.
    const db = new Database(server.databaseUrl.slice('sqlite:'.length));
    try {
      db.pragma('busy_timeout = 5000');
      const past = Date.now() - 60_000;
      db.prepare('UPDATE tokens SET expires_at = ? WHERE verification_id = ?').run(past, id);
      db.prepare('UPDATE verifications SET expires_at = ? WHERE id = ?').run(past, id);
    } finally {
      db.close();
    }

    await navigate(() => page.goto(link));
    await expectPage('Confirm your email address');
    expect(await pressConfirm()).toBe(410);
    await expectPage('This link has expired', 410);
    // The way out is right there.
    expect(await page.getByRole('button', { name: 'Send me a new link' }).isVisible()).toBe(true);
    await shot('expired');
  });

  it('shows the invalid page for a broken link', async () => {
    await navigate(() => page.goto(`${server.url}/verify?token=not-a-real-token`));
    await expectPage('Confirm your email address');
    expect(await pressConfirm()).toBe(400);
    await expectPage('This link doesn’t work', 400);
    await shot('invalid');
  });

  it('shows the paused page while suspended, and the same link works after resume', async () => {
    const email = 'paused@example.com';
    await issue(email);
    await page.goto(`${server.url}/dev/inbox`);
    const link = await linkFromDevInbox(email);
    await expectPage('Dev inbox');
    await navigate(() => page.goto(link));
    await expectPage('Confirm your email address');

    const admin = (path: string, body?: unknown) =>
      fetch(`${server.url}/v1/admin/${path}`, {
        method: 'POST',
        headers: { ...server.auth, 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
    expect((await admin('suspend', { reason: 'browser test', seconds: 300 })).status).toBe(200);
    try {
      expect(await pressConfirm()).toBe(503);
      await expectPage('Email confirmation is paused for now', 503);
      await shot('paused');
    } finally {
      expect((await admin('resume')).status).toBe(200);
    }

    expect(await navigate(() => page.getByRole('button', { name: 'Try again' }).click())).toBe(200);
    await expectPage('Your email address is confirmed');
  });

  // Pages name their icon, so Chromium never asks for /favicon.ico and logs a 404.
  it('gives the browser a favicon (no 404 for /favicon.ico in the console)', () => {
    expect(faviconProblems).toEqual([]);
  });
});
