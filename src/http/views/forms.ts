/**
 * The forms that several pages share. Plain HTML forms with `method="post"`: they work
 * without JavaScript, and a POST is never sent by mail scanners that merely open links.
 */
import { html, type SafeHtml } from '../../html.js';

/** Asks for an email address and POSTs it to `/resend` (field `email`) for a fresh link. */
export function resendForm(email = ''): SafeHtml {
  return html`<form method="post" action="/resend">
<label for="email">Your email address</label>
<input id="email" name="email" type="email" autocomplete="email" autocapitalize="off" spellcheck="false" required value="${email}">
<button type="submit" class="button">Send me a new link</button>
</form>`;
}

/**
 * Re-POSTs the same token to `/verify`: the "Try again" of the wait pages. Without a token
 * (the request was turned away before it was read) it tells the person to reopen the mail.
 */
export function retryForm(token: string | undefined): SafeHtml {
  if (token === undefined || token === '') {
    return html`<p class="muted">When you’re ready, open the link in the mail again.</p>`;
  }
  return html`<form method="post" action="/verify">
<input type="hidden" name="token" value="${token}">
<button type="submit" class="button">Try again</button>
</form>`;
}
