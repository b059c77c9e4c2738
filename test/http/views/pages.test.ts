import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../src/html.js';
import {
  renderAlreadyVerifiedPage,
  renderBadRequestPage,
  renderBusyPage,
  renderCheckInboxPage,
  renderConfirmPage,
  renderDevInboxPage,
  renderExpiredPage,
  renderInvalidPage,
  renderNotFoundPage,
  renderPausedPage,
  renderRevokedPage,
  renderServerErrorPage,
  renderSignupPage,
  renderTooManyAttemptsPage,
  renderUnavailablePage,
  renderVerifiedPage,
} from '../../../src/http/views/index.js';
import { samples, sampleToken } from './samples.js';

/** The forms of a page: their opening tag and their content. */
function forms(page: string): { tag: string; body: string }[] {
  return [...page.matchAll(/(<form\b[^>]*>)([\s\S]*?)<\/form>/g)].map((m) => ({
    tag: m[1]!,
    body: m[2]!,
  }));
}

function count(page: string, pattern: RegExp): number {
  return page.match(new RegExp(pattern, 'g'))?.length ?? 0;
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

function expectResendForm(page: string): void {
  const resend = forms(page).filter((f) => attr(f.tag, 'action') === '/resend');
  expect(resend).toHaveLength(1);
  const { tag, body } = resend[0]!;
  expect(attr(tag, 'method')).toBe('post');
  expect(body).toMatch(/<input id="email" name="email" type="email"[^>]* required/);
  expect(body).toContain('<label for="email">');
  expect(body).toMatch(/<button type="submit"/);
}

function expectRetryForm(page: string, token: string): void {
  const retry = forms(page).filter((f) => attr(f.tag, 'action') === '/verify');
  expect(retry).toHaveLength(1);
  expect(attr(retry[0]!.tag, 'method')).toBe('post');
  expect(retry[0]!.body).toContain(`<input type="hidden" name="token" value="${token}">`);
  expect(retry[0]!.body).toMatch(/<button type="submit"[^>]*>Try again<\/button>/);
}

describe.each(samples())('every page: $name', ({ page, modelUrls }) => {
  it('is a complete English document with the viewport set and the stylesheet linked', () => {
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page).toContain('<meta charset="utf-8">');
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page).toContain('<link rel="stylesheet" href="/assets/style.css">');
    expect(page.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('has one h1, repeated in the title, and the header, main and footer landmarks', () => {
    expect(count(page, /<h1[\s>]/)).toBe(1);
    const heading = /<h1>([^<]+)<\/h1>/.exec(page)?.[1];
    expect(page).toContain(`<title>${heading} · mailproof</title>`);
    for (const landmark of ['<header', '<main id="main">', '<footer']) {
      expect(count(page, new RegExp(landmark))).toBe(1);
    }
  });

  it('explains what happened and offers a next step (a line, a form or a link)', () => {
    const afterHeading = page.slice(page.indexOf('</h1>'), page.indexOf('</main>'));
    expect(afterHeading).toContain('<p class="lede">');
    expect(count(afterHeading, /<(p|form|a)\s/)).toBeGreaterThan(1);
  });

  it('runs no script and redirects nowhere', () => {
    expect(page).not.toMatch(/<script|\son[a-z]+=|javascript:|http-equiv/i);
  });

  it('loads nothing from elsewhere: no src, no url(), no inline style, no outside link', () => {
    expect(page).not.toMatch(/\ssrc=|url\(|\sstyle=|="\/\//i);
    let rest = page;
    for (const url of modelUrls) rest = rest.replaceAll(escapeHtml(url), '');
    expect(rest).not.toMatch(/https?:/i);
  });

  it('labels every visible input and posts every form to a local path', () => {
    for (const input of page.match(/<input\b[^>]*>/g) ?? []) {
      if (attr(input, 'type') === 'hidden') continue;
      expect(page).toContain(`<label for="${attr(input, 'id')}">`);
    }
    for (const { tag } of forms(page)) {
      expect(attr(tag, 'method')).toBe('post');
      expect(attr(tag, 'action')).toMatch(/^\/[a-z]/);
    }
  });
});

describe('confirm page', () => {
  const page = renderConfirmPage({ token: sampleToken });

  it('POSTs the token in a hidden field with exactly one button', () => {
    const [form, ...others] = forms(page);
    expect(others).toHaveLength(0);
    expect(attr(form!.tag, 'method')).toBe('post');
    expect(attr(form!.tag, 'action')).toBe('/verify');
    expect(form!.body).toContain(`<input type="hidden" name="token" value="${sampleToken}">`);
    expect(count(page, /<button/)).toBe(1);
  });

  it('says why a click is needed', () => {
    expect(page).toContain('<h1>Confirm your email address</h1>');
    expect(page).toMatch(/scanners open links/);
  });

  it('keeps a hostile token inside its attribute', () => {
    const evil = renderConfirmPage({ token: '"><script>alert(1)</script>' });
    expect(evil).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(evil).not.toContain('<script');
  });
});

describe('outcome pages', () => {
  it('verified: shows a Continue link only for a safe return URL', () => {
    const withUrl = renderVerifiedPage({ returnUrl: 'https://app.example.com/?a=1&b=2' });
    expect(withUrl).toContain(
      '<a class="button" href="https://app.example.com/?a=1&amp;b=2">Continue</a>',
    );
    const hostile = renderVerifiedPage({ returnUrl: 'javascript:alert(1)' });
    expect(hostile).not.toContain('javascript:');
    expect(hostile).not.toContain('Continue');
    expect(hostile).toContain('close this tab');
  });

  it('verified and already verified echo the address escaped', () => {
    for (const render of [renderVerifiedPage, renderAlreadyVerifiedPage]) {
      const page = render({ email: '<b>ada</b>@example.com' });
      expect(page).toContain('<strong>&lt;b&gt;ada&lt;/b&gt;@example.com</strong>');
    }
  });

  it.each([
    ['expired', renderExpiredPage, 'This link has expired'],
    ['revoked', renderRevokedPage, 'This link is no longer active'],
    ['invalid', renderInvalidPage, 'This link doesn’t work'],
  ])('%s: offers a resend form with a labelled email input', (_name, render, heading) => {
    const page = render({});
    expect(page).toContain(`<h1>${heading}</h1>`);
    expectResendForm(page);
  });

  it('revoked: points to the newest mail; invalid: says to copy the whole link', () => {
    expect(renderRevokedPage({})).toContain('use the link in the newest one');
    expect(renderInvalidPage({})).toContain('Copy the whole link');
  });

  it('link problem pages prefill the address, escaped', () => {
    const page = renderExpiredPage({ email: '"><script>x</script>' });
    expect(page).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
  });

  it('too many attempts: says the wait in words', () => {
    const page = renderTooManyAttemptsPage({ retryAfterSeconds: 120 });
    expect(page).toContain('<h1>Too many attempts</h1>');
    expect(page).toContain('wait about 2 minutes');
  });

  it('paused: reassures, does not blame, and says when to come back', () => {
    const page = renderPausedPage({ retryAfterSeconds: 600 });
    expect(page).toContain('Your link still works');
    expect(page).toContain('keep the mail');
    expect(page).toContain('isn’t caused by anything you did');
    expect(page).toContain('about 10 minutes');
  });

  it('busy: says the link is still valid and when to retry', () => {
    const page = renderBusyPage({ retryAfterSeconds: 30, token: sampleToken });
    expect(page).toContain('a lot of requests');
    expect(page).toContain('Your link is still valid');
    expect(page).toContain('about 30 seconds');
  });

  it('unavailable: our side, nothing lost, link still works, a few minutes', () => {
    const page = renderUnavailablePage({ token: sampleToken });
    expect(page).toContain('<h1>Something on our side isn’t working</h1>');
    expect(page).toContain('Nothing was lost');
    expect(page).toContain('your link still works');
    expect(page).toContain('a few minutes');
  });

  it.each([
    ['busy', renderBusyPage],
    ['unavailable', renderUnavailablePage],
    ['paused', renderPausedPage],
    ['too many attempts', renderTooManyAttemptsPage],
  ])('%s: "Try again" re-posts the token', (_name, render) => {
    expectRetryForm(render({ retryAfterSeconds: 30, token: sampleToken }), sampleToken);
  });

  it('wait pages without a token say to reopen the mail instead of showing a dead button', () => {
    const page = renderBusyPage({ retryAfterSeconds: 30 });
    expect(forms(page)).toHaveLength(0);
    expect(page).toContain('open the link in the mail again');
  });
});

describe('sign-up and check-your-inbox pages', () => {
  it('sign-up POSTs the address to /signup and says it is a demo of mailproof', () => {
    const page = renderSignupPage({});
    const [form] = forms(page);
    expect(attr(form!.tag, 'action')).toBe('/signup');
    expect(form!.body).toMatch(/<input id="email" name="email" type="email"/);
    expect(page).toContain('a demo of mailproof');
    expect(page).not.toContain('/dev/inbox');
  });

  it('sign-up links the dev inbox only when it runs', () => {
    expect(renderSignupPage({ devInbox: true })).toContain('<a href="/dev/inbox">');
  });

  it('sign-up explains a refused address next to the field', () => {
    const page = renderSignupPage({ email: 'ada@', error: 'Enter <a valid> address.' });
    expect(page).toContain('aria-invalid="true" aria-describedby="email-error"');
    expect(page).toContain('id="email-error"');
    expect(page).toContain('Enter &lt;a valid&gt; address.');
    expect(page).toContain('value="ada@"');
  });

  it('check your inbox echoes the address escaped and reads the same for any address', () => {
    const known = renderCheckInboxPage({ email: 'ada@example.com', after: 'resend' });
    const unknown = renderCheckInboxPage({ email: 'nobody@example.com', after: 'resend' });
    expect(known.replace('ada@example.com', 'X')).toBe(unknown.replace('nobody@example.com', 'X'));
    const evil = renderCheckInboxPage({ email: '<script>@x', after: 'signup' });
    expect(evil).toContain('<strong>&lt;script&gt;@x</strong>');
    expect(evil).not.toContain('<script');
  });

  it('check your inbox links the dev inbox only when it runs', () => {
    const page = (devInbox: boolean) =>
      renderCheckInboxPage({ email: 'a@example.com', after: 'signup', devInbox });
    expect(page(true)).toContain('href="/dev/inbox"');
    expect(page(false)).not.toContain('/dev/inbox');
  });
});

describe('dev inbox', () => {
  const mail = (id: string, receivedAt: number, links: string[] = []) => ({
    id,
    receivedAt,
    to: 'ada@example.com',
    subject: `Mail ${id}`,
    links,
    text: `text of ${id}`,
  });

  it('lists mails newest first, whatever the input order', () => {
    const page = renderDevInboxPage({ mails: [mail('old', 1000), mail('new', 5000)] });
    expect(page.indexOf('Mail new')).toBeLessThan(page.indexOf('Mail old'));
    expect(page).toContain('2 mails caught, newest first');
  });

  it('makes verify links clickable, shows the time and the text in a details/pre', () => {
    const link = 'http://127.0.0.1:3000/verify?token=abc';
    const page = renderDevInboxPage({
      mails: [mail('m', Date.UTC(2026, 0, 15, 12, 0, 3), [link])],
    });
    expect(page).toContain(`<a href="${link}">${link}</a>`);
    expect(page).toContain(
      '<time datetime="2026-01-15T12:00:03.000Z">2026-01-15 12:00:03 UTC</time>',
    );
    expect(page).toMatch(/<details><summary>[^<]+<\/summary><pre>text of m<\/pre><\/details>/);
  });

  it('shows a development-only banner and an empty state', () => {
    const page = renderDevInboxPage({ mails: [] });
    expect(page).toContain('Development only');
    expect(page).toContain('No mail yet');
    expect(page).not.toContain('<ol');
  });

  it('escapes everything from the mail and never links a non-http URL', () => {
    const evil = '<script>alert(1)</script>';
    const page = renderDevInboxPage({
      mails: [
        {
          id: evil,
          receivedAt: Number.NaN,
          to: evil,
          subject: evil,
          links: ['javascript:alert(1)'],
          text: evil,
        },
      ],
    });
    expect(page).not.toContain('<script');
    expect(page).not.toContain('href="javascript:');
    expect(page).toContain('<code>javascript:alert(1)</code>');
    expect(page).toContain('at an unknown time');
  });
});

describe('error pages', () => {
  it('404 says the page was not found and points to the start page', () => {
    const page = renderNotFoundPage();
    expect(page).toContain('<h1>We can’t find that page</h1>');
    expect(page).toContain('<a href="/">');
  });

  it('500 blames our side, shows only the reference id, escaped', () => {
    const page = renderServerErrorPage({ referenceId: '<req-1>' });
    expect(page).toContain('<h1>Something went wrong on our side</h1>');
    expect(page).toContain('<code>&lt;req-1&gt;</code>');
    expect(renderServerErrorPage({})).not.toContain('reference');
  });

  it('400 says the form could not be read and shows the detail escaped', () => {
    const page = renderBadRequestPage({ detail: 'No <email>.' });
    expect(page).toContain('<h1>We couldn’t read that form</h1>');
    expect(page).toContain('No &lt;email&gt;.');
  });
});

describe('shell options', () => {
  it.each(samples({ productName: '<script>alert(1)</script>' }))(
    '$name escapes a hostile product name',
    ({ page }) => {
      expect(page).not.toContain('<script');
      expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    },
  );

  it('escapes the product name in the title and header', () => {
    const page = renderNotFoundPage({ productName: '<script>alert(1)</script>' });
    expect(page).not.toContain('<script');
    expect(page).toContain('· &lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(page).toContain('<span>&lt;script&gt;alert(1)&lt;/script&gt;</span>');
  });

  it('links the stylesheet where the app serves it', () => {
    const page = renderNotFoundPage({ stylesheetHref: '/assets/style.3f9a1c.css' });
    expect(page).toContain('<link rel="stylesheet" href="/assets/style.3f9a1c.css">');
  });
});
