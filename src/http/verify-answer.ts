import type { VerifiedFields, VerifyOutcome } from '../core/outcome.js';
import { HttpFailure } from './failure.js';

/** A verify outcome as the HTTP layer answers it: a success body or a failure. */
export type VerifyAnswer =
  | { failure: null; body: { status: 'verified' | 'already_verified' } & VerifiedFields }
  | { failure: HttpFailure };

/** Maps a verify outcome to its answer, for the API and the pages alike. */
export function verifyAnswer(outcome: VerifyOutcome): VerifyAnswer {
  switch (outcome.status) {
    case 'verified':
    case 'already_verified':
      return { failure: null, body: outcome };
    case 'invalid':
      return {
        failure: new HttpFailure('invalid_token', 'the token is malformed, forged or unknown'),
      };
    case 'expired':
      return { failure: new HttpFailure('expired_token', 'the token has expired') };
    case 'revoked':
      return {
        failure: new HttpFailure(
          'revoked_token',
          'the token was revoked or replaced by a newer verification',
        ),
      };
  }
}
