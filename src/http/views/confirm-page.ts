/**
 * The page behind the mailed link (`GET /verify?token=…`). It consumes nothing: mail
 * scanners open links (and some run scripts), so only a person pressing the button — a
 * plain form POST, no script, no refresh — confirms the address.
 */
import { html } from '../../html.js';
import { renderPage, type ShellOptions } from './layout.js';

/** The token from the link, passed on unchanged in a hidden field. */
export interface ConfirmPageModel {
  token: string;
}

/** "Confirm your email address" with one button that POSTs the token to `/verify`. */
export function renderConfirmPage(model: ConfirmPageModel, shell?: ShellOptions): string {
  return renderPage(
    {
      heading: 'Confirm your email address',
      icon: { name: 'mail', tone: 'info' },
      body: html`<p class="lede">One last step: press the button to confirm that this address is yours.</p>
<form method="post" action="/verify">
<input type="hidden" name="token" value="${model.token}">
<button type="submit" class="button">Confirm my email address</button>
</form>
<p class="hint">We ask for a click because mail security scanners open links on their own; this way, only you can confirm.</p>
<p class="hint">Didn’t ask for this? Just close this page: nothing happens unless the button is pressed.</p>`,
    },
    shell,
  );
}
