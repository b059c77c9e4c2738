/**
 * Stable error codes. They are part of the HTTP contract (`{"error": {"code"}}`) and of the
 * library API: match on `code`, never on the message.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_email'
  | 'invalid_token'
  | 'expired_token'
  | 'revoked_token'
  | 'not_found'
  | 'unauthorized'
  | 'rate_limited'
  | 'suspended'
  | 'overloaded'
  | 'unavailable'
  | 'invalid_config'
  | 'internal';

/** Base class of every error mailproof throws on purpose. `code` is stable. */
export class MailproofError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The input is not acceptable (bad email, subject, purpose...); nothing was changed. */
export class InvalidInputError extends MailproofError {}

/** A dependency (database, SMTP, shared state) failed or did not answer in time. */
export class UnavailableError extends MailproofError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

/** A configuration value is missing or wrong; `variable` names it. */
export class ConfigError extends MailproofError {
  readonly variable: string;

  constructor(variable: string, message: string, options?: { cause?: unknown }) {
    super('invalid_config', `${variable}: ${message}`, options);
    this.variable = variable;
  }
}
