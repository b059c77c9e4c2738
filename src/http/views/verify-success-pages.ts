/**
 * Outcome pages of `POST /verify` when the address is (now or already) confirmed. A second
 * click on the same link is not an error for the person, so it gets a calm page too.
 */
import { html, type SafeHtml } from '../../html.js';
import { renderPage, type ShellOptions } from './layout.js';
import { safeHref } from './safe-url.js';

/** What is known after a successful verification. */
export interface VerifiedPageModel {
  /** The confirmed address, shown back to the person. */
  email?: string;
  /** Where the person came from; shown as "Continue" if it is an http(s) URL or local path. */
  returnUrl?: string;
}

function nextStep(returnUrl: string | undefined): SafeHtml {
  const href = returnUrl === undefined ? undefined : safeHref(returnUrl);
  return href === undefined
    ? html`<p class="muted">You can close this tab and go back to where you started.</p>`
    : html`<div class="actions"><a class="button" href="${href}">Continue</a></div>`;
}

/** The address has just been confirmed. */
export function renderVerifiedPage(model: VerifiedPageModel, shell?: ShellOptions): string {
  const who = model.email ? html`<strong>${model.email}</strong>` : 'your address';
  return renderPage(
    {
      heading: 'Your email address is confirmed',
      icon: { name: 'check', tone: 'success' },
      body: html`<p class="lede">Thanks! We’ve confirmed ${who}. You’re all set.</p>
${nextStep(model.returnUrl)}`,
    },
    shell,
  );
}

/** The link was used before: the address is confirmed and there is nothing left to do. */
export function renderAlreadyVerifiedPage(model: VerifiedPageModel, shell?: ShellOptions): string {
  const who = model.email ? html`<strong>${model.email}</strong>` : 'This address';
  return renderPage(
    {
      heading: 'This address is already confirmed',
      icon: { name: 'check', tone: 'success' },
      body: html`<p class="lede">${who} was confirmed earlier, so there’s nothing more to do.</p>
${nextStep(model.returnUrl)}`,
    },
    shell,
  );
}
