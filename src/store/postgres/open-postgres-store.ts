import { type OpenSqlStoreOptions, SqlStore } from '../sql-store.js';
import { PostgresDriver } from './postgres-driver.js';

/** Options of `openPostgresStore`. */
export interface PostgresStoreOptions extends OpenSqlStoreOptions {
  /** `postgres://` or `postgresql://` connection URL. */
  url: string;
  /** Longest wait for a connection, new or from the pool (default 3000). */
  connectTimeoutMs?: number;
  /** Longest a statement may run, lock waits included (default 5000). */
  statementTimeoutMs?: number;
  /** Most connections open at once (default 10). */
  poolSize?: number;
  /**
   * Send named prepared statements, planned once per connection (default true). Off for
   * a pooler that hands one client several server connections without carrying them
   * (PgBouncer before 1.21, or without `max_prepared_statements`, in transaction mode).
   */
  preparedStatements?: boolean;
  /** Told when an idle pooled connection dies; the pool replaces it. */
  onIdleError?: (error: Error) => void;
}

/**
 * Connects to PostgreSQL and migrates; rejects with `UnavailableError` within about
 * `connectTimeoutMs` when the server cannot be reached.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<SqlStore> {
  const {
    url,
    connectTimeoutMs = 3000,
    statementTimeoutMs = 5000,
    poolSize = 10,
    preparedStatements = true,
    onIdleError,
    ...rest
  } = options;
  const driver = new PostgresDriver({
    url,
    connectTimeoutMs,
    statementTimeoutMs,
    poolSize,
    preparedStatements,
    onIdleError,
  });
  return SqlStore.open(driver, rest);
}
