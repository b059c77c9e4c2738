/**
 * Every page with realistic sample data: the tests check each one for the shared rules, and
 * render-samples.ts writes them out for screenshots. A new page added here gets both.
 */
import {
  renderAlreadyVerifiedPage,
  renderBadRequestPage,
  renderBusyPage,
  renderCheckInboxPage,
  renderConfirmPage,
  renderDevInboxPage,
  renderExpiredPage,
  renderInvalidPage,
  renderNotFoundPage,
  renderPausedPage,
  renderRevokedPage,
  renderServerErrorPage,
  renderSignupPage,
  renderTooManyAttemptsPage,
  renderUnavailablePage,
  renderVerifiedPage,
  type ShellOptions,
} from '../../../src/http/views/index.js';

/** A token shaped like the opaque strategy's (URL-safe). */
export const sampleToken = 'mp1_q8Zx3vK0bLr7TnYc2WfHd5sAeJ9uGi4oP6mN1kQ';

const at = Date.UTC(2026, 0, 15, 12, 0, 0);

/** One rendered page; `modelUrls` are the only http(s) URLs it may contain. */
export interface Sample {
  name: string;
  page: string;
  modelUrls: readonly string[];
}

/** Renders every page; `shell` lets the screenshot script point at its own stylesheet. */
export function samples(shell?: ShellOptions): Sample[] {
  const verifyUrl = `http://127.0.0.1:3000/verify?token=${sampleToken}`;
  const returnUrl = 'https://app.example.com/welcome';
  const page = (name: string, html: string, modelUrls: string[] = []): Sample => ({
    name,
    page: html,
    modelUrls,
  });
  return [
    page('confirm', renderConfirmPage({ token: sampleToken }, shell)),
    page('verified', renderVerifiedPage({ email: 'ada@example.com', returnUrl }, shell), [
      returnUrl,
    ]),
    page('verified-plain', renderVerifiedPage({}, shell)),
    page('already-verified', renderAlreadyVerifiedPage({ email: 'ada@example.com' }, shell)),
    page('expired', renderExpiredPage({}, shell)),
    page('revoked', renderRevokedPage({ email: 'ada@example.com' }, shell)),
    page('invalid', renderInvalidPage({}, shell)),
    page(
      'too-many-attempts',
      renderTooManyAttemptsPage({ retryAfterSeconds: 120, token: sampleToken }, shell),
    ),
    page('paused', renderPausedPage({ retryAfterSeconds: 600, token: sampleToken }, shell)),
    page('busy', renderBusyPage({ retryAfterSeconds: 30, token: sampleToken }, shell)),
    page('busy-no-token', renderBusyPage({ retryAfterSeconds: 30 }, shell)),
    page('unavailable', renderUnavailablePage({ token: sampleToken }, shell)),
    page('signup', renderSignupPage({ devInbox: true }, shell)),
    page(
      'signup-error',
      renderSignupPage({ email: 'ada@', error: 'Enter an address like name@example.com.' }, shell),
    ),
    page(
      'check-inbox',
      renderCheckInboxPage({ email: 'ada@example.com', after: 'signup', devInbox: true }, shell),
    ),
    page(
      'check-inbox-resend',
      renderCheckInboxPage({ email: 'ada@example.com', after: 'resend' }, shell),
    ),
    page(
      'dev-inbox',
      renderDevInboxPage(
        {
          mails: [
            {
              id: 'm1',
              receivedAt: at,
              to: 'ada@example.com',
              subject: 'Confirm your email address',
              links: [verifyUrl],
              text: `Hello,\n\nPlease confirm your email address by opening this link:\n\n${verifyUrl}\n\nThe link works for 24 hours. If you did not ask for it, ignore this mail.\n\n-- mailproof`,
            },
            {
              id: 'm2',
              receivedAt: at + 95_000,
              to: 'grace.hopper@navy.example.org',
              subject: 'Confirm your email address',
              links: [`${verifyUrl}x`],
              text: `Hello,\n\nPlease confirm your email address:\n${verifyUrl}x\n`,
            },
          ],
        },
        shell,
      ),
      [verifyUrl, `${verifyUrl}x`],
    ),
    page('dev-inbox-empty', renderDevInboxPage({ mails: [] }, shell)),
    page('not-found', renderNotFoundPage(shell)),
    page('server-error', renderServerErrorPage({ referenceId: 'req-7f3a91c2' }, shell)),
    page('bad-request', renderBadRequestPage({ detail: 'The form had no email address.' }, shell)),
  ];
}
