import type { ErrorCode, MailproofError } from '../core/errors.js';

/** Codes the HTTP layer answers with besides the core's. */
export type HttpErrorCode = ErrorCode | 'payload_too_large';

/**
 * A refusal the HTTP layer turns into a status, a JSON error or a page, through the one
 * table in `answers.ts`. `retryAfterSeconds` becomes `Retry-After`; `token` lets busy and
 * unavailable pages offer to try the same link again.
 */
export class HttpFailure extends Error {
  readonly code: HttpErrorCode;
  readonly retryAfterSeconds: number | undefined;
  readonly token: string | undefined;

  constructor(
    code: HttpErrorCode,
    message: string,
    options: { retryAfterSeconds?: number; token?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'HttpFailure';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.token = options.token;
  }

  /** The failure for a `MailproofError` thrown by the core or an adapter. */
  static from(error: MailproofError, token?: string): HttpFailure {
    const retryAfterSeconds = error.code === 'unavailable' ? 5 : undefined;
    return new HttpFailure(error.code, error.message, {
      cause: error,
      ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
      ...(token ? { token } : {}),
    });
  }
}
