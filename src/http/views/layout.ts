/**
 * The page shell shared by every page: document head, product header, one centred card with
 * the page's single `<h1>`, and a footer. Pages supply only what happened and what to do.
 */
import { html, type SafeHtml } from '../../html.js';
import { FAVICON_PATH, type IconName, icon, logo } from './icons.js';

/** Deployment-wide presentation options, the same for every page. */
export interface ShellOptions {
  /** Shown in the header and the window title. Default `mailproof`. */
  productName?: string;
  /** Where the app serves `stylesheet` (e.g. with a content hash). Default `/assets/style.css`. */
  stylesheetHref?: string;
}

/** The colour of a page's status icon: green done, blue information, amber wait, red problem. */
export type Tone = 'success' | 'info' | 'warning' | 'danger';

/** What one page says. */
export interface PageContent {
  /** What happened, in a few words: the `<h1>` and the start of the `<title>`. */
  heading: string;
  /** The icon above the heading. */
  icon?: { name: IconName; tone: Tone };
  /** Everything under the heading: what it means and what to do next. */
  body: SafeHtml;
  /** A wider card, for lists. */
  wide?: boolean;
}

/** A complete HTML document for `content`. */
export function renderPage(content: PageContent, shell: ShellOptions = {}): string {
  const productName = shell.productName ?? 'mailproof';
  const stylesheetHref = shell.stylesheetHref ?? '/assets/style.css';
  const status = content.icon;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
<title>${content.heading} · ${productName}</title>
<link rel="stylesheet" href="${stylesheetHref}">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><p class="brand">${logo}<span>${productName}</span></p></header>
<main id="main">
<div class="card${content.wide ? ' wide' : ''}">
${status && html`<div class="icon ${status.tone}">${icon(status.name)}</div>`}
<h1>${content.heading}</h1>
${content.body}
</div>
</main>
<footer class="site"><p>${productName} · email address confirmation</p></footer>
</body>
</html>
`.toString();
}
