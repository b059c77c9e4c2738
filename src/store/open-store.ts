import type { Config } from '../config.js';
import { ConfigError } from '../core/errors.js';
import type { PostgresStoreOptions } from './postgres/open-postgres-store.js';
import type { SqlStore } from './sql-store.js';
import type { SqliteStoreOptions } from './sqlite/open-sqlite-store.js';

/** Tuning for whichever database the URL names; each takes the options that concern it. */
export type OpenStoreOptions = Omit<PostgresStoreOptions, 'url'> & Omit<SqliteStoreOptions, 'path'>;

const VARIABLE = 'MAILPROOF_DATABASE_URL';

/** The store options a configuration sets. */
export function storeOptions(config: Pick<Config, 'preparedStatements'>): OpenStoreOptions {
  return { preparedStatements: config.preparedStatements };
}

/**
 * Opens the store `databaseUrl` names, migrated: `sqlite:PATH` (`sqlite:///abs/path` also
 * reads as a path) or `postgres://` / `postgresql://`. Only the named database's driver is
 * loaded: the other one's modules would cost every process about 15 MB of memory.
 */
export async function openStore(
  databaseUrl: string,
  options: OpenStoreOptions = {},
): Promise<SqlStore> {
  const { busyTimeoutMs, ...postgresOptions } = options;
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\//, '');
    if (path === '')
      throw new ConfigError(VARIABLE, 'sqlite: needs a file path, as in sqlite:data/mailproof.db');
    const { openSqliteStore } = await import('./sqlite/open-sqlite-store.js');
    return openSqliteStore({ path, busyTimeoutMs, migrate: options.migrate });
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    if (!URL.canParse(databaseUrl)) throw new ConfigError(VARIABLE, 'not a valid PostgreSQL URL');
    const { openPostgresStore } = await import('./postgres/open-postgres-store.js');
    return openPostgresStore({ ...postgresOptions, url: databaseUrl });
  }
  throw new ConfigError(VARIABLE, 'expected sqlite:PATH, postgres:// or postgresql://');
}
