/** The server-rendered pages: pure functions from a typed model to a complete HTML string. */

export { type CheckInboxPageModel, renderCheckInboxPage } from './check-inbox-page.js';
export { type ConfirmPageModel, renderConfirmPage } from './confirm-page.js';
export { type DevInboxPageModel, type DevMail, renderDevInboxPage } from './dev-inbox-page.js';
export {
  type BadRequestPageModel,
  renderBadRequestPage,
  renderNotFoundPage,
  renderServerErrorPage,
  type ServerErrorPageModel,
} from './error-pages.js';
export { FAVICON_PATH, favicon } from './icons.js';
export type { ShellOptions } from './layout.js';
export { renderSignupPage, type SignupPageModel } from './signup-page.js';
export { stylesheet } from './style.js';
export {
  type LinkProblemPageModel,
  renderExpiredPage,
  renderInvalidPage,
  renderRevokedPage,
} from './verify-link-problem-pages.js';
export {
  renderAlreadyVerifiedPage,
  renderVerifiedPage,
  type VerifiedPageModel,
} from './verify-success-pages.js';
export {
  type RetryLaterModel,
  renderBusyPage,
  renderPausedPage,
  renderTooManyAttemptsPage,
  renderUnavailablePage,
  type TimedRetryModel,
} from './verify-wait-pages.js';
