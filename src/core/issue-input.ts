import { type EmailAddress, parseEmail } from './email.js';
import { InvalidInputError } from './errors.js';
import type { Purpose } from './ports.js';

const PURPOSES: readonly Purpose[] = ['signup', 'email-change'];
const SUBJECT_MAX = 128;
/** Printable characters only: subjects end up in logs, admin views and JSON. */
const SUBJECT_PATTERN = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;

/** A validated request to issue a verification. */
export interface IssueInput {
  email: EmailAddress;
  subject: string | null;
  purpose: Purpose;
}

/**
 * Validates the caller's `{email, subject?, purpose?}`. Unknown fields are ignored, as the
 * contract says; anything else wrong throws `InvalidInputError` and changes nothing.
 */
export function parseIssueInput(input: unknown): IssueInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidInputError('invalid_request', 'expected an object with an email');
  }
  const { email, subject, purpose } = input as Record<string, unknown>;
  return {
    email: parseEmail(email),
    subject: parseSubject(subject),
    purpose: parsePurpose(purpose),
  };
}

function parseSubject(subject: unknown): string | null {
  if (subject === undefined || subject === null) return null;
  if (
    typeof subject !== 'string' ||
    subject.length === 0 ||
    [...subject].length > SUBJECT_MAX ||
    !SUBJECT_PATTERN.test(subject)
  ) {
    throw new InvalidInputError(
      'invalid_request',
      `subject must be 1 to ${SUBJECT_MAX} printable characters`,
    );
  }
  return subject;
}

function parsePurpose(purpose: unknown): Purpose {
  if (purpose === undefined || purpose === null) return 'signup';
  if (typeof purpose !== 'string' || !PURPOSES.includes(purpose as Purpose)) {
    throw new InvalidInputError('invalid_request', `purpose must be one of ${PURPOSES.join(', ')}`);
  }
  return purpose as Purpose;
}
