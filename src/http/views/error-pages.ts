/**
 * Pages for requests that went wrong outside the verification flow: unknown address (404),
 * malformed form (400) and the last resort (500). They never show internals such as a stack
 * trace; a 500 shows at most a reference id that support can find in the logs.
 */
import { html } from '../../html.js';
import { renderPage, type ShellOptions } from './layout.js';

/** No page at this address (404). */
export function renderNotFoundPage(shell?: ShellOptions): string {
  return renderPage(
    {
      heading: 'We can’t find that page',
      icon: { name: 'search', tone: 'info' },
      body: html`<p class="lede">The address may be mistyped, or the page may no longer exist.</p>
<p>If you came from a link in one of our mails, copy the whole link into your browser’s address bar. Otherwise, go to the <a href="/">start page</a>.</p>`,
    },
    shell,
  );
}

/** What the last-resort page may show. */
export interface ServerErrorPageModel {
  /** An id that finds this request in the logs (e.g. the request id); shown, never explained. */
  referenceId?: string;
}

/** Something failed unexpectedly (500). */
export function renderServerErrorPage(model: ServerErrorPageModel, shell?: ShellOptions): string {
  return renderPage(
    {
      heading: 'Something went wrong on our side',
      icon: { name: 'alert', tone: 'danger' },
      body: html`<p class="lede">It’s not something you did. Please try again in a few minutes.</p>
${model.referenceId && html`<p class="hint">If it keeps happening, contact support and mention this reference: <code>${model.referenceId}</code></p>`}`,
    },
    shell,
  );
}

/** What the bad-request page may add. */
export interface BadRequestPageModel {
  /** One sentence on what to fix, e.g. "Enter an address like name@example.com." */
  detail?: string;
}

/** A form arrived malformed or incomplete (400). */
export function renderBadRequestPage(model: BadRequestPageModel, shell?: ShellOptions): string {
  return renderPage(
    {
      heading: 'We couldn’t read that form',
      icon: { name: 'alert', tone: 'warning' },
      body: html`<p class="lede">Something in it was missing or not in the expected format.</p>
${model.detail && html`<p class="note">${model.detail}</p>`}
<p>Go back, check what you entered and send it again, or start over from the <a href="/">start page</a>.</p>`,
    },
    shell,
  );
}
