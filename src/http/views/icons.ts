/**
 * Inline SVG icons: nothing to fetch, they follow the text colour (`currentColor`), and
 * they are decorative (`aria-hidden`) because the heading next to them says the same thing.
 */
import { html, type SafeHtml } from '../../html.js';

const shapes = {
  check: html`<path d="M5 12.5l4.5 4.5L19 7.5"/>`,
  mail: html`<rect x="3" y="5" width="18" height="14" rx="2.5"/><path d="M3.5 7l8.5 6 8.5-6"/>`,
  clock: html`<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3.5 2"/>`,
  pause: html`<circle cx="12" cy="12" r="9"/><path d="M10 9v6M14 9v6"/>`,
  hourglass: html`<path d="M6.5 3.5h11M6.5 20.5h11M7.5 3.5c0 4.5 4.5 5.5 4.5 8.5s-4.5 4-4.5 8.5M16.5 3.5c0 4.5-4.5 5.5-4.5 8.5s4.5 4 4.5 8.5"/>`,
  refresh: html`<path d="M19.5 12a7.5 7.5 0 1 1-2.2-5.3"/><path d="M19.5 4v4h-4"/>`,
  link: html`<path d="M10 14l4-4"/><path d="M8.5 10.5l-2 2a3.5 3.5 0 0 0 5 5l2-2M15.5 13.5l2-2a3.5 3.5 0 0 0-5-5l-2 2"/>`,
  alert: html`<circle cx="12" cy="12" r="9"/><path d="M12 7.5v5.5M12 16.5v.01"/>`,
  search: html`<circle cx="11" cy="11" r="6.5"/><path d="M16 16l4.5 4.5"/>`,
  inbox: html`<path d="M3.5 13.5h5l1.5 2.5h4l1.5-2.5h5"/><path d="M6 5h12l2.5 8.5V19H3.5v-5.5z"/>`,
  code: html`<path d="M8.5 8l-4 4 4 4M15.5 8l4 4-4 4"/>`,
} as const;

/** The names of the available icons. */
export type IconName = keyof typeof shapes;

/** A 24 px line icon in the current text colour. */
export function icon(name: IconName, size = 24): SafeHtml {
  return html`<svg width="${size}" height="${size}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${shapes[name]}</svg>`;
}

/** The product mark: an envelope on an accent tile; `.cut` strokes take the page colour. */
export const logo: SafeHtml = html`<svg width="26" height="26" viewBox="0 0 26 26" aria-hidden="true" focusable="false"><rect width="26" height="26" rx="7" fill="currentColor"/><g class="cut" fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"><rect x="6" y="8" width="14" height="10" rx="1.8"/><path d="M6.5 9l6.5 4.5L19.5 9"/></g></svg>`;

/** Where the app serves `favicon`; pages link it so browsers do not ask for /favicon.ico. */
export const FAVICON_PATH = '/assets/icon.svg';

/** The logo as a standalone SVG file, in the default accent colour. */
export const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 26 26"><rect width="26" height="26" rx="7" fill="#1d4ed8"/><g fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"><rect x="6" y="8" width="14" height="10" rx="1.8"/><path d="M6.5 9l6.5 4.5L19.5 9"/></g></svg>`;
