import pg from 'pg';
import { UnavailableError } from '../../core/errors.js';

// SQLSTATE classes that say the server cannot serve now, not that the statement is wrong:
// 08 connection exception, 53 insufficient resources, 57 operator intervention (57014 is
// statement_timeout), 58 system error.
const UNAVAILABLE_CLASSES = ['08', '53', '57', '58'];
// Lock waits and conflicts that end in a retryable error.
const UNAVAILABLE_STATES = ['40001', '40P01', '55P03'];

/**
 * `error`, thrown by a `pg` call, as the store reports it. Server errors become
 * `UnavailableError` by SQLSTATE; errors `pg` raises itself (refused, reset, connect or
 * query timeout, pool ended) are all about the connection, so they do too.
 */
export function toPostgresStoreError(error: unknown): unknown {
  if (error instanceof pg.DatabaseError) {
    const state = error.code ?? '';
    if (!UNAVAILABLE_CLASSES.includes(state.slice(0, 2)) && !UNAVAILABLE_STATES.includes(state)) {
      return error;
    }
  } else if (!(error instanceof Error) || error instanceof TypeError) {
    return error;
  }
  return new UnavailableError(`PostgreSQL: ${error.message}`, { cause: error });
}
