import Database from 'better-sqlite3';
import { UnavailableError } from '../../core/errors.js';

// Result codes (and their extended `_…` forms) that say the database cannot serve now,
// not that the statement is wrong: busy past the timeout, disk trouble, file unreachable.
const UNAVAILABLE = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_PROTOCOL',
];

/** `error` as the store reports it: `UnavailableError` for the codes above, else unchanged. */
export function toSqliteStoreError(error: unknown): unknown {
  if (
    error instanceof Database.SqliteError &&
    UNAVAILABLE.some((code) => error.code === code || error.code.startsWith(`${code}_`))
  ) {
    return new UnavailableError(`SQLite: ${error.message}`, { cause: error });
  }
  return error;
}
