import { describe, expect, it } from 'vitest';
import { dark, light, type Palette } from '../../../src/http/views/palette.js';
import { stylesheet } from '../../../src/http/views/style.js';

/** WCAG 2 relative luminance of `#rrggbb`. */
function luminance(hex: string): number {
  const channel = (offset: number) => {
    const c = Number.parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

// [foreground, background, minimum]: 4.5 for text, 3 for control outlines and focus rings.
const pairs: [keyof Palette, keyof Palette, number][] = [
  ['text', 'bg', 4.5],
  ['text', 'surface', 4.5],
  ['muted', 'bg', 4.5],
  ['muted', 'surface', 4.5],
  ['accent', 'surface', 4.5],
  ['accent', 'bg', 4.5],
  ['accentHover', 'surface', 4.5],
  ['onAccent', 'accent', 4.5],
  ['onAccent', 'accentHover', 4.5],
  ['dangerFg', 'surface', 4.5],
  ['noteText', 'noteBg', 4.5],
  ['successFg', 'successBg', 3],
  ['warningFg', 'warningBg', 3],
  ['dangerFg', 'dangerBg', 3],
  ['infoFg', 'infoBg', 3],
  ['fieldBorder', 'surface', 3],
  ['focus', 'surface', 3],
  ['focus', 'bg', 3],
];

describe('palette', () => {
  for (const [scheme, palette] of [
    ['light', light],
    ['dark', dark],
  ] as const) {
    it.each(pairs)(`${scheme}: %s on %s is at least %s:1`, (fg, bg, minimum) => {
      expect(contrast(palette[fg], palette[bg])).toBeGreaterThanOrEqual(minimum);
    });
  }
});

describe('stylesheet', () => {
  it('is small', () => {
    expect(Buffer.byteLength(stylesheet)).toBeLessThan(6 * 1024);
  });

  it('loads nothing from anywhere (no url(), no @import)', () => {
    expect(stylesheet).not.toMatch(/url\(|@import|@font-face/i);
  });

  it('defines every palette colour, and a dark scheme', () => {
    expect(stylesheet).toContain('@media (prefers-color-scheme:dark)');
    for (const value of [...Object.values(light), ...Object.values(dark)]) {
      expect(stylesheet).toContain(value);
    }
  });

  it('uses only custom properties it defines', () => {
    const defined = new Set([...stylesheet.matchAll(/(--[a-z-]+):/g)].map((m) => m[1]));
    for (const [, used] of stylesheet.matchAll(/var\((--[a-z-]+)\)/g)) {
      expect(defined).toContain(used);
    }
  });

  it('shows keyboard focus', () => {
    expect(stylesheet).toMatch(/:focus-visible\{outline:3px solid var\(--focus\)/);
  });

  it('balances braces', () => {
    expect(stylesheet.split('{').length).toBe(stylesheet.split('}').length);
  });
});
