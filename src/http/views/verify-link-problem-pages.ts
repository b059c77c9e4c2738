/**
 * Outcome pages of `POST /verify` when the link itself can no longer be used (expired,
 * replaced or cancelled, broken). Each offers the way out right there: a form for a new link.
 */

import { html } from '../../html.js';
import { resendForm } from './forms.js';
import { renderPage, type ShellOptions } from './layout.js';

/** What the pages may prefill. */
export interface LinkProblemPageModel {
  /** Prefills the new-link form, when the address is known. */
  email?: string;
}

/** The link is past its lifetime (410 `expired_token`). */
export function renderExpiredPage(model: LinkProblemPageModel, shell?: ShellOptions): string {
  return renderPage(
    {
      heading: 'This link has expired',
      icon: { name: 'clock', tone: 'warning' },
      body: html`<p class="lede">For your safety, confirmation links only work for a limited time.</p>
<p>Enter your email address and we’ll send you a fresh link.</p>
${resendForm(model.email)}`,
    },
    shell,
  );
}

/** A newer link replaced this one, or the request was cancelled (410 `revoked_token`). */
export function renderRevokedPage(model: LinkProblemPageModel, shell?: ShellOptions): string {
  return renderPage(
    {
      heading: 'This link is no longer active',
      icon: { name: 'refresh', tone: 'warning' },
      body: html`<p class="lede">It was replaced by a newer link, or the request was cancelled.</p>
<p>If you got more than one mail from us, use the link in the newest one. Or get a new link here:</p>
${resendForm(model.email)}`,
    },
    shell,
  );
}

/** The link is malformed, incomplete or unknown (400 `invalid_token`). */
export function renderInvalidPage(model: LinkProblemPageModel, shell?: ShellOptions): string {
  return renderPage(
    {
      heading: 'This link doesn’t work',
      icon: { name: 'link', tone: 'danger' },
      body: html`<p class="lede">It looks broken or incomplete. Some mail apps split long links over two lines.</p>
<p>Copy the whole link from the mail into your browser’s address bar, or get a new link here:</p>
${resendForm(model.email)}`,
    },
    shell,
  );
}
