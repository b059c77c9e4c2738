/**
 * HTML that is safe to insert as is: built by the `html` tag, which escapes everything it did
 * not build itself. A plain string can never pass for it.
 */
export class SafeHtml {
  /** The markup. */
  readonly value: string;

  /** Prefer the `html` tag; this is for markup that is already escaped. */
  constructor(value: string) {
    this.value = value;
  }

  /** The markup, so that a `SafeHtml` can be written to a mail part directly. */
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

function fragment(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(fragment).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * Tagged template for markup: every interpolation is escaped unless it is itself `SafeHtml`
 * (or an array of them), so escaping is by construction rather than by remembering.
 * `null`, `undefined` and `false` render nothing, which keeps conditionals short.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    out += fragment(values[i]) + (strings[i + 1] ?? '');
  }
  return new SafeHtml(out);
}
