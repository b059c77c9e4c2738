/**
 * "Check your inbox", shown after sign-up and after a request for a new link. It reads the
 * same whether or not the address is known, so it cannot be used to find out who signed up.
 */
import { html } from '../../html.js';
import { renderPage, type ShellOptions } from './layout.js';

/** Which request led here, and to which address. */
export interface CheckInboxPageModel {
  /** The address as entered, echoed back so typos are spotted. */
  email: string;
  /** `signup` (a mail is always sent) or `resend` (sent only if a confirmation is waiting). */
  after: 'signup' | 'resend';
  /** Whether the embedded mail catcher runs: then the page links to `/dev/inbox`. */
  devInbox?: boolean;
}

/** Tells the person a link is on its way to `email` and what to do if it does not arrive. */
export function renderCheckInboxPage(model: CheckInboxPageModel, shell?: ShellOptions): string {
  const address = html`<strong>${model.email}</strong>`;
  const sent =
    model.after === 'signup'
      ? html`<p class="lede">We’ve sent a confirmation link to ${address}. Open it and press the button to confirm.</p>`
      : html`<p class="lede">If ${address} is waiting to be confirmed, we’ve sent it a new link. Links from earlier mails keep working until they expire.</p>`;
  return renderPage(
    {
      heading: 'Check your inbox',
      icon: { name: 'mail', tone: 'success' },
      body: html`${sent}
<p class="hint">It can take a minute to arrive. Nothing there? Look in your spam folder, and check the address above for typos.</p>
${model.after === 'signup' && html`<p class="hint">Wrong address? <a href="/">Start again</a>.</p>`}
${model.devInbox && html`<div class="actions"><a class="button secondary" href="/dev/inbox">Open the dev inbox</a></div>`}`,
    },
    shell,
  );
}
