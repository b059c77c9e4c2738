import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw, SafeHtml } from '../src/html.js';

describe('escapeHtml', () => {
  it('escapes every character that can end text or a quoted attribute', () => {
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
  });

  it('leaves other text as it is, including non-ASCII', () => {
    expect(escapeHtml('Zoë — ok ✓ 100%')).toBe('Zoë — ok ✓ 100%');
  });

  it('escapes an ampersand only once', () => {
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });
});

describe('html', () => {
  it('escapes interpolated strings in text and attributes', () => {
    const evil = `"><script>alert('x')</script>`;
    expect(html`<input value="${evil}"><p>${evil}</p>`.toString()).toBe(
      '<input value="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"><p>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>',
    );
  });

  it('renders numbers as text', () => {
    expect(html`<b>${42}</b><i>${-1.5}</i>`.toString()).toBe('<b>42</b><i>-1.5</i>');
  });

  it('keeps nested fragments as markup', () => {
    const inner = html`<em>${'<x>'}</em>`;
    expect(html`<p>${inner}</p>`.toString()).toBe('<p><em>&lt;x&gt;</em></p>');
  });

  it('joins arrays without separators, escaping strings and keeping fragments', () => {
    const items = ['a<', 'b'].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${items}</ul>`.toString()).toBe('<ul><li>a&lt;</li><li>b</li></ul>');
    expect(html`${['<a>', html`<b>`]}`.toString()).toBe('&lt;a&gt;<b>');
  });

  it('renders false, null and undefined as nothing, for conditional fragments', () => {
    const show = false;
    expect(html`[${show && html`<b>`}${null}${undefined}]`.toString()).toBe('[]');
  });

  it('escapes values that slipped past the types instead of trusting them', () => {
    const sneaky = { toString: () => '<script>' } as unknown as string;
    expect(html`${sneaky}`.toString()).toBe('&lt;script&gt;');
  });
});

describe('raw', () => {
  it('trusts a literal as markup', () => {
    expect(html`<p>${raw('<br>')}</p>`.toString()).toBe('<p><br></p>');
  });

  it('accepts only literals, so run-time text cannot be trusted by accident', () => {
    const fromRequest: string = '<script>';
    // @ts-expect-error a `string` is not a literal
    raw(fromRequest);
  });
});

describe('SafeHtml', () => {
  it('cannot be made outside html.ts', () => {
    // @ts-expect-error the module-private key is required
    expect(() => new SafeHtml('<script>', Symbol('SafeHtml'))).toThrow(TypeError);
  });
});
