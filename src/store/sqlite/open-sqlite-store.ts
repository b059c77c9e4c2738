import { type OpenSqlStoreOptions, SqlStore } from '../sql-store.js';
import { SqliteDriver } from './sqlite-driver.js';

/** Options of `openSqliteStore`. */
export interface SqliteStoreOptions extends OpenSqlStoreOptions {
  /** Database file (its folder is created if missing), or `:memory:`. */
  path: string;
  /** How long to wait for another process's write lock (default 5000). */
  busyTimeoutMs?: number;
}

/** Opens (creating if needed) and migrates an SQLite store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqlStore> {
  const { path, busyTimeoutMs = 5000, ...rest } = options;
  return SqlStore.open(await SqliteDriver.open({ path, busyTimeoutMs }), rest);
}
