import { describe, expect, it } from 'vitest';
import { safeHref } from '../../../src/http/views/safe-url.js';

describe('safeHref', () => {
  it.each([
    'https://app.example.com/welcome?x=1&y=2',
    'http://127.0.0.1:3000/verify?token=abc',
    '/dev/inbox',
    '/',
  ])('accepts %s', (url) => {
    expect(safeHref(url)).toBe(url);
  });

  it.each([
    'javascript:alert(1)',
    ' JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox',
    '//evil.example.com/',
    '/\\evil.example.com/',
    'relative/path',
    '',
    'mailto:a@example.com',
  ])('refuses %s', (url) => {
    expect(safeHref(url)).toBeUndefined();
  });
});
