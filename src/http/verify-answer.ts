import type { VerifiedFields, VerifyOutcome } from '../core/outcome.js';
import { HttpFailure } from './failure.js';

/** A verify outcome as the HTTP layer answers it: a success body or a failure. */
export type VerifyAnswer =
  | { failure: null; body: { status: 'verified' | 'already_verified' } & VerifiedFields }
  | { failure: HttpFailure };

// Made once: these carry nothing of the request, and building an Error (its stack trace)
// on every refused token is a measurable share of the cheapest path.
const INVALID = {
  failure: new HttpFailure('invalid_token', 'the token is malformed, forged or unknown'),
};
const EXPIRED = { failure: new HttpFailure('expired_token', 'the token has expired') };
const REVOKED = {
  failure: new HttpFailure(
    'revoked_token',
    'the token was revoked or replaced by a newer verification',
  ),
};

/** Maps a verify outcome to its answer, for the API and the pages alike. */
export function verifyAnswer(outcome: VerifyOutcome): VerifyAnswer {
  switch (outcome.status) {
    case 'verified':
    case 'already_verified':
      return { failure: null, body: outcome };
    case 'invalid':
      return INVALID;
    case 'expired':
      return EXPIRED;
    case 'revoked':
      return REVOKED;
  }
}
