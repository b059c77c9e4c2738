import type { HttpErrorCode, HttpFailure } from './failure.js';
import {
  renderBadRequestPage,
  renderBusyPage,
  renderExpiredPage,
  renderInvalidPage,
  renderNotFoundPage,
  renderPausedPage,
  renderRevokedPage,
  renderServerErrorPage,
  renderTooManyAttemptsPage,
  renderUnavailablePage,
  type ShellOptions,
} from './views/index.js';

/** How one error code is answered: its status, and the page a browser sees. */
export interface Answer {
  status: number;
  page(failure: HttpFailure, shell: ShellOptions, referenceId: string): string;
}

const retry = (failure: HttpFailure) => ({
  ...(failure.retryAfterSeconds !== undefined
    ? { retryAfterSeconds: failure.retryAfterSeconds }
    : {}),
  ...(failure.token !== undefined ? { token: failure.token } : {}),
});

/**
 * The one table from error code to status code and page. The JSON API and the pages both
 * answer through it, so a code can never mean one status in one place and another
 * elsewhere.
 */
export const ANSWERS: Record<HttpErrorCode, Answer> = {
  invalid_request: {
    status: 400,
    page: (f, shell) => renderBadRequestPage({ detail: f.message }, shell),
  },
  invalid_email: {
    status: 400,
    page: (f, shell) => renderBadRequestPage({ detail: f.message }, shell),
  },
  invalid_token: { status: 400, page: (_f, shell) => renderInvalidPage({}, shell) },
  expired_token: { status: 410, page: (_f, shell) => renderExpiredPage({}, shell) },
  revoked_token: { status: 410, page: (_f, shell) => renderRevokedPage({}, shell) },
  unauthorized: {
    status: 401,
    page: (f, shell) => renderBadRequestPage({ detail: f.message }, shell),
  },
  not_found: { status: 404, page: (_f, shell) => renderNotFoundPage(shell) },
  payload_too_large: {
    status: 413,
    page: (_f, shell) =>
      renderBadRequestPage({ detail: 'The form sent more data than we accept.' }, shell),
  },
  rate_limited: {
    status: 429,
    page: (f, shell) =>
      renderTooManyAttemptsPage(
        { retryAfterSeconds: f.retryAfterSeconds ?? 60, ...retry(f) },
        shell,
      ),
  },
  suspended: { status: 503, page: (f, shell) => renderPausedPage(retry(f), shell) },
  overloaded: {
    status: 503,
    page: (f, shell) =>
      renderBusyPage({ retryAfterSeconds: f.retryAfterSeconds ?? 5, ...retry(f) }, shell),
  },
  unavailable: { status: 503, page: (f, shell) => renderUnavailablePage(retry(f), shell) },
  invalid_config: {
    status: 500,
    page: (_f, shell, referenceId) => renderServerErrorPage({ referenceId }, shell),
  },
  internal: {
    status: 500,
    page: (_f, shell, referenceId) => renderServerErrorPage({ referenceId }, shell),
  },
};
