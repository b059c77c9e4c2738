/**
 * The demo sign-up page at `GET /`: the quickest way to see a whole verification from the
 * person's side. It POSTs the address to `/signup` (field `email`).
 */
import { html } from '../../html.js';
import { icon } from './icons.js';
import { renderPage, type ShellOptions } from './layout.js';

/** The sign-up form's state. */
export interface SignupPageModel {
  /** Whether the embedded mail catcher runs: then the page links to `/dev/inbox`. */
  devInbox?: boolean;
  /** Prefills the field, e.g. when the page comes back with an error. */
  email?: string;
  /** Why the last attempt was refused, e.g. "Enter an address like name@example.com." */
  error?: string;
}

/** Product intro and an email form; with `error`, the field is marked invalid and explained. */
export function renderSignupPage(model: SignupPageModel, shell?: ShellOptions): string {
  const error = model.error;
  return renderPage(
    {
      heading: 'Prove an email address is yours',
      icon: { name: 'mail', tone: 'info' },
      body: html`<p class="lede">Enter your email address and we’ll send you a link. Open it, press one button, and the address is confirmed.</p>
<form method="post" action="/signup">
<label for="email">Email address</label>
${error && html`<p class="error" id="email-error">${icon('alert', 20)}<span>${error}</span></p>`}
<input id="email" name="email" type="email" autocomplete="email" autocapitalize="off" spellcheck="false" required value="${model.email ?? ''}"${error && html` aria-invalid="true" aria-describedby="email-error"`}>
<button type="submit" class="button">Send me a link</button>
</form>
<p class="hint">This is a demo of mailproof: your address is used only to send this one mail.</p>
${model.devInbox && html`<p class="hint">Running locally: mails are caught, not sent. Read them in the <a href="/dev/inbox">dev inbox</a>.</p>`}`,
    },
    shell,
  );
}
