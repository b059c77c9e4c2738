/**
 * Escaped-by-construction HTML. Every value interpolated into `html`...`` is escaped unless
 * it is already a `SafeHtml`, and a `SafeHtml` can only come from this module: from `html`
 * itself (whose literal parts are the author's own markup) or from `raw` with a literal.
 */

/** Proves a `SafeHtml` was made here: the constructor cannot be called from outside. */
const issued = Symbol('SafeHtml');

/** A fragment of trusted markup. Made only by `html` and `raw`; `toString()` gives the HTML. */
export class SafeHtml {
  readonly #markup: string;

  /** @internal Use `html` or `raw`; the key keeps other modules from minting trust. */
  constructor(markup: string, key: typeof issued) {
    if (key !== issued) throw new TypeError('SafeHtml is made by html`` or raw()');
    this.#markup = markup;
  }

  /** The markup, ready to send. */
  toString(): string {
    return this.#markup;
  }
}

/**
 * What may be interpolated: text and numbers (escaped), trusted fragments, lists of either
 * (joined without separator) and `false`/`null`/`undefined` (nothing, for `${cond && html`…`}`).
 */
export type Interpolation =
  | string
  | number
  | SafeHtml
  | false
  | null
  | undefined
  | readonly Interpolation[];

const entities: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for use in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (ch) => entities[ch] ?? ch);
}

function render(value: Interpolation): string {
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === false || value === null || value === undefined) return '';
  // Anything else (including values that slipped past the types) is treated as text.
  return escapeHtml(String(value));
}

/** Tagged template: the literal parts are trusted markup, every interpolation is escaped. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    out += render(values[i]) + (strings[i + 1] ?? '');
  }
  return new SafeHtml(out, issued);
}

/**
 * Trusts a constant as markup. The type accepts only string literals, so text computed at
 * run time (and so possibly from a request) cannot be passed by accident.
 */
export function raw<const T extends string>(constant: string extends T ? never : T): SafeHtml {
  return new SafeHtml(constant, issued);
}
