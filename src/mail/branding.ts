import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';

/** Branding as configured: every field optional. */
export interface BrandingOptions {
  /** Shown in the subject and body; defaults to `mailproof`. */
  productName?: string;
  /** Button colour, `#rgb` or `#rrggbb`; defaults to an accessible blue. */
  accentColor?: string;
  /** A line of plain text under the mail (address, legal note...). */
  footer?: string;
  /** Path of an HTML template for the HTML part (`MAILPROOF_MAIL_TEMPLATE`). */
  templateFile?: string;
}

/** Branding ready to render with: defaults applied, the template file read and checked. */
export interface Branding {
  productName: string;
  accentColor: string;
  footer: string | null;
  /** The user's HTML template, or null for the built-in one. */
  template: string | null;
}

/** The placeholders a template file may use; each value is HTML-escaped when filled in. */
export const TEMPLATE_PLACEHOLDERS = ['link', 'productName', 'expiresIn'] as const;

/** One template placeholder name. */
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

/** Matches `{{name}}`, spaces allowed inside the braces. */
export const PLACEHOLDER_PATTERN = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** Blue 700: 6.7:1 contrast with white button text (WCAG AA needs 4.5:1). */
const DEFAULT_ACCENT = '#1d4ed8';

function readTemplate(path: string): string {
  let template: string;
  try {
    template = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('MAILPROOF_MAIL_TEMPLATE', `cannot read the mail template ${path}`, {
      cause,
    });
  }
  const names = [...template.matchAll(PLACEHOLDER_PATTERN)].map((match) => match[1] ?? '');
  const unknown = names.filter(
    (name) => !(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name),
  );
  if (unknown.length > 0) {
    throw new ConfigError(
      'MAILPROOF_MAIL_TEMPLATE',
      `unknown placeholder {{${unknown[0]}}} in ${path} (known: ${TEMPLATE_PLACEHOLDERS.join(', ')})`,
    );
  }
  // The spec requires the link in the HTML part: a template without it would mail dead ends.
  if (!names.includes('link')) {
    throw new ConfigError('MAILPROOF_MAIL_TEMPLATE', `${path} has no {{link}} placeholder`);
  }
  return template;
}

/**
 * Applies the defaults and reads the template file, once, at start: a missing, unreadable or
 * broken template fails the start with a `ConfigError` rather than the first delivery.
 */
export function loadBranding(options: BrandingOptions = {}): Branding {
  // Whitespace collapsed: the name goes into a Subject header, where a newline has no place.
  const productName = (options.productName ?? '').replace(/\s+/g, ' ').trim() || 'mailproof';
  const accentColor = options.accentColor?.trim() || DEFAULT_ACCENT;
  // Only a hex colour: it lands in a style attribute, where HTML escaping does not stop CSS.
  if (!/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(accentColor)) {
    throw new ConfigError('MAILPROOF_MAIL_ACCENT_COLOR', 'must be a hex colour like #1d4ed8');
  }
  return {
    productName,
    accentColor,
    footer: options.footer?.trim() || null,
    template: options.templateFile ? readTemplate(options.templateFile) : null,
  };
}
