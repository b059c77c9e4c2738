/**
 * Outcome pages of `POST /verify` when the service cannot answer right now (429 and 503).
 * They are what people see when the system is overwhelmed, so they stay cheap to render,
 * never blame the person, say the link still works and offer "Try again" with the same token.
 */

import { html } from '../../html.js';
import { retryForm } from './forms.js';
import { renderPage, type ShellOptions } from './layout.js';
import { waitInWords } from './wait-time.js';

/** What a wait page needs; both fields are optional so a page can always be shown. */
export interface RetryLaterModel {
  /** The token that was posted, re-posted by "Try again"; absent: the page says to reopen the mail. */
  token?: string;
  /** The `Retry-After` sent with the page; said in words ("about 2 minutes"). */
  retryAfterSeconds?: number;
}

/** A wait page whose `Retry-After` is always known. */
export interface TimedRetryModel extends RetryLaterModel {
  retryAfterSeconds: number;
}

/** Too many attempts from this client or for this link (429 `rate_limited`). */
export function renderTooManyAttemptsPage(model: TimedRetryModel, shell?: ShellOptions): string {
  return renderPage(
    {
      heading: 'Too many attempts',
      icon: { name: 'clock', tone: 'warning' },
      body: html`<p class="lede">To keep accounts safe, we limit how often links can be tried.</p>
<p>Please wait ${waitInWords(model.retryAfterSeconds)}, then try again. Your link still works.</p>
${retryForm(model.token)}`,
    },
    shell,
  );
}

/** Verification is suspended, by an operator or the attack detector (503 `suspended`). */
export function renderPausedPage(model: RetryLaterModel, shell?: ShellOptions): string {
  return renderPage(
    {
      heading: 'Email confirmation is paused for now',
      icon: { name: 'pause', tone: 'info' },
      body: html`<p class="lede">For safety, we’ve temporarily paused email confirmation. This isn’t caused by anything you did.</p>
<p>Your link still works, so keep the mail and try again in ${waitInWords(model.retryAfterSeconds)}.</p>
${retryForm(model.token)}`,
    },
    shell,
  );
}

/** The service sheds load (503 `overloaded`). */
export function renderBusyPage(model: TimedRetryModel, shell?: ShellOptions): string {
  return renderPage(
    {
      heading: 'We’re very busy right now',
      icon: { name: 'hourglass', tone: 'info' },
      body: html`<p class="lede">We’re handling a lot of requests at the moment. Your link is still valid.</p>
<p>Please try again in ${waitInWords(model.retryAfterSeconds)}.</p>
${retryForm(model.token)}`,
    },
    shell,
  );
}

/** A dependency such as the database is down (503 `unavailable`). */
export function renderUnavailablePage(model: RetryLaterModel, shell?: ShellOptions): string {
  return renderPage(
    {
      heading: 'Something on our side isn’t working',
      icon: { name: 'alert', tone: 'warning' },
      body: html`<p class="lede">We couldn’t confirm your address just now. Nothing was lost, and your link still works.</p>
<p>Please try again in ${waitInWords(model.retryAfterSeconds)}.</p>
${retryForm(model.token)}`,
    },
    shell,
  );
}
