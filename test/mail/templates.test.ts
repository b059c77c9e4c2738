import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import type { VerificationMailPayload } from '../../src/core/mail-payload.js';
import { loadBranding } from '../../src/mail/branding.js';
import { durationInWords } from '../../src/mail/duration-words.js';
import { renderVerificationMail } from '../../src/mail/templates.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;
const TOKEN = 'eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJhYmMifQ.c2lnbmF0dXJlLV8';
const LINK = `https://verify.example.com/verify?token=${TOKEN}`;

function payload(overrides: Partial<VerificationMailPayload> = {}): VerificationMailPayload {
  return {
    kind: 'verification',
    token: TOKEN,
    purpose: 'signup',
    expiresAt: NOW + 24 * HOUR,
    resent: false,
    ...overrides,
  };
}

function render(
  overrides: { payload?: Partial<VerificationMailPayload>; to?: string; publicUrl?: string } = {},
  branding = loadBranding({ productName: 'Acme' }),
) {
  return renderVerificationMail({
    to: overrides.to ?? 'ada@example.com',
    payload: payload(overrides.payload),
    publicUrl: overrides.publicUrl ?? 'https://verify.example.com',
    branding,
    now: NOW,
  });
}

const dir = mkdtempSync(join(tmpdir(), 'mailproof-template-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function templateFile(content: string): string {
  const path = join(dir, `mail-${++files}.html`);
  writeFileSync(path, content);
  return path;
}

describe('renderVerificationMail', () => {
  it('puts the exact link, the product name and the expiry in both parts', () => {
    const mail = render();
    expect(mail.to).toBe('ada@example.com');
    expect(mail.subject).toBe('Confirm your email address for Acme');
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain(LINK);
      expect(part).toContain('Acme');
      expect(part).toContain('This link expires in 24 hours');
    }
  });

  it('links the button and shows the raw URL in the HTML part', () => {
    const { html } = render();
    expect(html.match(new RegExp(`href="${LINK.replace(/[.?]/g, '\\$&')}"`, 'g'))).toHaveLength(2);
    expect(html).toContain(`>${LINK}</a>`);
    expect(html).not.toMatch(/<style|class=/);
  });

  it('ignores a trailing slash of the public URL', () => {
    const mail = render({ publicUrl: 'https://verify.example.com/' });
    expect(mail.text).toContain(LINK);
    expect(mail.text).not.toContain('.com//verify');
  });

  it('words an email change differently', () => {
    const mail = render({ payload: { purpose: 'email-change' } });
    expect(mail.subject).toBe('Confirm your new email address for Acme');
    expect(mail.text).toContain('change the email address');
    expect(mail.html).toContain(LINK);
  });

  it('says that earlier links still work in a resent mail', () => {
    expect(render({ payload: { resent: true } }).text).toContain('Links mailed earlier');
    expect(render().text).not.toContain('Links mailed earlier');
  });

  it('computes the expiry from the clock', () => {
    expect(render({ payload: { expiresAt: NOW + 15 * 60_000 } }).text).toContain(
      'expires in 15 minutes',
    );
    expect(render({ payload: { expiresAt: NOW + 3 * 24 * HOUR } }).html).toContain(
      'expires in 3 days',
    );
  });

  it('escapes a hostile product name and recipient in the HTML part', () => {
    const branding = loadBranding({
      productName: '<script>alert(1)</script>',
      footer: '"><img src=x onerror=alert(2)>',
    });
    const mail = render({ to: '"<b>x</b>"@example.com' }, branding);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain('<b>');
    expect(mail.html).not.toContain('<img');
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('&quot;&lt;b&gt;x&lt;/b&gt;&quot;@example.com');
    // The text part is not HTML: it keeps the name as written.
    expect(mail.text).toContain('<script>alert(1)</script>');
  });

  it('defaults the product name to mailproof and shows the footer', () => {
    const mail = render({}, loadBranding({ footer: 'Acme Ltd, 1 Main St' }));
    expect(mail.subject).toBe('Confirm your email address for mailproof');
    expect(mail.text).toContain('Acme Ltd, 1 Main St');
    expect(mail.html).toContain('Acme Ltd, 1 Main St');
  });
});

describe('brandable template file', () => {
  it('fills the placeholders, escaped, and keeps the built-in text part', () => {
    const path = templateFile(
      '<html><body><h1>{{productName}}</h1><a href="{{ link }}">go</a><p>{{expiresIn}}</p></body></html>',
    );
    const mail = render({}, loadBranding({ productName: 'A&B <Co>', templateFile: path }));
    expect(mail.html).toBe(
      `<html><body><h1>A&amp;B &lt;Co&gt;</h1><a href="${LINK}">go</a><p>24 hours</p></body></html>`,
    );
    expect(mail.text).toContain(LINK);
  });

  it('is read once, at load', () => {
    const path = templateFile('<a href="{{link}}">first</a>');
    const branding = loadBranding({ templateFile: path });
    writeFileSync(path, '<a href="{{link}}">second</a>');
    expect(render({}, branding).html).toContain('first');
  });

  it('fails with a ConfigError naming MAILPROOF_MAIL_TEMPLATE when missing', () => {
    const load = () => loadBranding({ templateFile: '/nonexistent/mail.html' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/MAILPROOF_MAIL_TEMPLATE/);
  });

  it('refuses a template without {{link}} or with an unknown placeholder', () => {
    expect(() => loadBranding({ templateFile: templateFile('<p>{{productName}}</p>') })).toThrow(
      /MAILPROOF_MAIL_TEMPLATE.*no \{\{link\}\}/,
    );
    expect(() => loadBranding({ templateFile: templateFile('{{link}} {{linky}}') })).toThrow(
      /unknown placeholder \{\{linky\}\}/,
    );
  });
});

describe('loadBranding', () => {
  it('refuses an accent colour that is not a hex colour', () => {
    expect(() => loadBranding({ accentColor: 'red;background:url(x)' })).toThrow(ConfigError);
    expect(loadBranding({ accentColor: '#ABC' }).accentColor).toBe('#ABC');
  });
});

describe('durationInWords', () => {
  it.each([
    [30_000, 'less than a minute'],
    [60_000, '1 minute'],
    [90 * 60_000, '90 minutes'],
    [HOUR * 3, '3 hours'],
    [24 * HOUR - 5_000, '24 hours'],
    [24 * HOUR, '24 hours'],
    [7 * 24 * HOUR, '7 days'],
  ])('%i ms is %s', (ms, words) => {
    expect(durationInWords(ms)).toBe(words);
  });
});
