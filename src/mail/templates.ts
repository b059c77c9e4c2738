import type { VerificationMailPayload } from '../core/mail-payload.js';
import type { Clock, MailMessage, OutboxMail } from '../core/ports.js';
import { escapeHtml, html } from '../html.js';
import { type Branding, PLACEHOLDER_PATTERN, type TemplatePlaceholder } from './branding.js';
import { durationInWords } from './duration-words.js';

/** Everything one verification mail is made of. */
export interface VerificationMailInput {
  /** The recipient. */
  to: string;
  payload: VerificationMailPayload;
  /** `MAILPROOF_PUBLIC_URL`; a trailing slash is ignored. */
  publicUrl: string;
  branding: Branding;
  /** ms since the epoch, for the "expires in" words. */
  now: number;
}

/** The link of the spec ("The link"): the token is URL-safe, so it goes in unescaped. */
export function verificationLink(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/verify?token=${token}`;
}

interface Wording {
  subject: string;
  intro: string;
  button: string;
}

function wording(input: VerificationMailInput): Wording {
  const { productName } = input.branding;
  if (input.payload.purpose === 'email-change') {
    return {
      subject: `Confirm your new email address for ${productName}`,
      intro: `Someone asked to change the email address of their ${productName} account to ${input.to}. Open the link below to confirm the change.`,
      button: 'Confirm new email address',
    };
  }
  return {
    subject: `Confirm your email address for ${productName}`,
    intro: `${input.to} was entered as the email address for ${productName}. Open the link below to confirm that this address is yours.`,
    button: 'Confirm email address',
  };
}

const RESENT_NOTE =
  'You asked for a new link. Links mailed earlier keep working until they expire.';
const IGNORE_NOTE =
  'If you did not ask for this, ignore this mail: nothing changes unless the link is opened and confirmed.';

function renderText(
  input: VerificationMailInput,
  words: Wording,
  link: string,
  expiresIn: string,
): string {
  const lines = [
    words.intro,
    '',
    ...(input.payload.resent ? [RESENT_NOTE, ''] : []),
    link,
    '',
    `This link expires in ${expiresIn}.`,
    '',
    IGNORE_NOTE,
    '',
    '-- ',
    input.branding.productName,
    ...(input.branding.footer ? [input.branding.footer] : []),
  ];
  return `${lines.join('\n')}\n`;
}

function renderBuiltInHtml(
  input: VerificationMailInput,
  words: Wording,
  link: string,
  expiresIn: string,
): string {
  const { productName, accentColor, footer } = input.branding;
  const text =
    'font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:24px;color:#1f2937;';
  const small =
    'font-family:Arial,Helvetica,sans-serif;font-size:13px;line-height:20px;color:#4b5563;';
  // Tables and inline styles only: many mail clients drop <style> blocks and ignore flexbox.
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${words.subject}</title>
</head>
<body style="margin:0;padding:0;background-color:#f3f4f6;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:560px;background-color:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;">
<h1 style="margin:0 0 16px;font-family:Arial,Helvetica,sans-serif;font-size:22px;line-height:28px;color:#111827;">${productName}</h1>
<p style="margin:0 0 16px;${text}">${words.intro}</p>
${input.payload.resent && html`<p style="margin:0 0 16px;${text}">${RESENT_NOTE}</p>`}
<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:24px 0;">
<tr><td style="border-radius:6px;background-color:${accentColor};">
<a href="${link}" style="display:inline-block;padding:12px 24px;font-family:Arial,Helvetica,sans-serif;font-size:16px;font-weight:bold;line-height:24px;color:#ffffff;text-decoration:none;border-radius:6px;">${words.button}</a>
</td></tr>
</table>
<p style="margin:0 0 16px;${text}">This link expires in ${expiresIn}.</p>
<p style="margin:0 0 8px;${small}">If the button does not work, copy this link into your browser:</p>
<p style="margin:0 0 16px;${small}word-break:break-all;"><a href="${link}" style="color:${accentColor};">${link}</a></p>
<p style="margin:0;${small}">${IGNORE_NOTE}</p>
</td></tr>
</table>
${footer && html`<p style="margin:16px 0 0;${small}">${footer}</p>`}
</td></tr>
</table>
</body>
</html>
`.toString();
}

function fillTemplate(template: string, values: Record<TemplatePlaceholder, string>): string {
  // Unknown names were refused when the template was loaded.
  return template.replace(PLACEHOLDER_PATTERN, (_match, name: TemplatePlaceholder) =>
    escapeHtml(values[name]),
  );
}

/**
 * Renders a verification mail: a text and an HTML part, both with the link, the product name
 * and when the link expires. The HTML part is the branding's template when there is one, the
 * built-in layout otherwise; either way every value in it is HTML-escaped.
 */
export function renderVerificationMail(input: VerificationMailInput): MailMessage {
  const link = verificationLink(input.publicUrl, input.payload.token);
  const expiresIn = durationInWords(input.payload.expiresAt - input.now);
  const words = wording(input);
  const htmlPart = input.branding.template
    ? fillTemplate(input.branding.template, {
        link,
        productName: input.branding.productName,
        expiresIn,
      })
    : renderBuiltInHtml(input, words, link, expiresIn);
  return {
    to: input.to,
    subject: words.subject,
    text: renderText(input, words, link, expiresIn),
    html: htmlPart,
  };
}

/**
 * The outbox worker's `render`: renders each mail for its recipient at delivery time, with
 * the branding loaded at start and the time from `clock`.
 */
export function createVerificationRenderer(options: {
  publicUrl: string;
  branding: Branding;
  clock: Clock;
}): (mail: OutboxMail, payload: VerificationMailPayload) => MailMessage {
  return (mail, payload) =>
    renderVerificationMail({
      to: mail.recipient,
      payload,
      publicUrl: options.publicUrl,
      branding: options.branding,
      now: options.clock.now(),
    });
}
