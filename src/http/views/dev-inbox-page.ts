/**
 * The dev inbox (`GET /dev/inbox`): the mails the embedded catcher has caught, so a
 * developer can click the link without a real mailbox. Only served when no SMTP URL is set.
 */
import { html, type SafeHtml } from '../../html.js';
import { icon } from './icons.js';
import { renderPage, type ShellOptions } from './layout.js';
import { safeHref } from './safe-url.js';

/** One caught mail. */
export interface DevMail {
  id: string;
  /** When the catcher received it, ms since the Unix epoch. */
  receivedAt: number;
  to: string;
  subject: string;
  /** The links found in the mail (the verify link), in order. */
  links: readonly string[];
  /** The plain-text part. */
  text: string;
}

/** The caught mails, in any order: the page sorts them newest first. */
export interface DevInboxPageModel {
  mails: readonly DevMail[];
}

/** `2026-01-15 12:00:03 UTC`: unambiguous, whatever the server's time zone. */
function receivedTime(ms: number): SafeHtml {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return html`at an unknown time`;
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC</time>`;
}

function mailLink(link: string): SafeHtml {
  const href = safeHref(link);
  // A link the catcher found but that is not http(s) is shown, never made clickable.
  return html`<li>${href === undefined ? html`<code>${link}</code>` : html`<a href="${href}">${link}</a>`}</li>`;
}

function mailItem(mail: DevMail): SafeHtml {
  return html`<li class="mail" id="mail-${mail.id}">
<h2>${mail.subject || '(no subject)'}</h2>
<p class="meta"><span>To ${mail.to}</span> <span>Received ${receivedTime(mail.receivedAt)}</span></p>
${mail.links.length > 0 ? html`<ul class="links">${mail.links.map(mailLink)}</ul>` : html`<p class="muted">No links in this mail.</p>`}
<details><summary>Show the text of the mail</summary><pre>${mail.text}</pre></details>
</li>`;
}

/** The caught mails newest first, under a "development only" banner; an empty state if none. */
export function renderDevInboxPage(model: DevInboxPageModel, shell?: ShellOptions): string {
  const mails = [...model.mails].sort((a, b) => b.receivedAt - a.receivedAt);
  const count = mails.length === 1 ? '1 mail' : `${mails.length} mails`;
  return renderPage(
    {
      heading: 'Dev inbox',
      icon: { name: 'inbox', tone: 'info' },
      wide: true,
      body: html`<p class="note banner">${icon('code', 20)}<span>Development only: these mails were caught on this machine and never sent.</span></p>
${
  mails.length === 0
    ? html`<p class="lede">No mail yet.</p>
<p>Sign up on the <a href="/">demo page</a> and the mail will show up here. <a href="/dev/inbox">Refresh</a></p>`
    : html`<p class="lede">${count} caught, newest first. <a href="/dev/inbox">Refresh</a></p>
<ol class="mails">${mails.map(mailItem)}</ol>`
}`,
    },
    shell,
  );
}
