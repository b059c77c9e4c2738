import { fileURLToPath } from 'node:url';
import Postgrator from 'postgrator';
import { RawSql, sql } from './sql.js';
import type { SqlDriver } from './sql-driver.js';

/** What a migration run did. */
export interface MigrationResult {
  /** Versions applied by this run, oldest first (empty when the schema was current). */
  applied: number[];
  /** The schema version now. */
  version: number;
}

const POSTGRATOR_DRIVERS = { sqlite: 'sqlite3', postgres: 'pg' } as const;

/**
 * The folder of one dialect's `.sql` migrations, next to this module: `src/store/migrations/`
 * under tsx and vitest, `dist/store/migrations/` once built (the build copies the files).
 */
export function migrationsDirectory(dialect: SqlDriver['dialect']): string {
  return fileURLToPath(new URL(`./migrations/${dialect}`, import.meta.url));
}

/**
 * Brings the schema to the newest version, all in one transaction. Processes starting at once
 * wait for each other on a lock, then find the work done.
 */
export async function migrate(driver: SqlDriver): Promise<MigrationResult> {
  const directory = migrationsDirectory(driver.dialect);
  return driver.transaction(async (tx) => {
    await tx.lock('mailproof:migrations');
    const postgrator = new Postgrator({
      driver: POSTGRATOR_DRIVERS[driver.dialect],
      migrationPattern: `${directory}/*.sql`,
      execQuery: async (text) => ({ rows: await tx.all(sql`${new RawSql(text)}`) }),
      execSqlScript: (text) => tx.script(text),
    });
    // Without files postgrator would report success and leave the schema empty.
    if ((await postgrator.getMigrations()).length === 0) {
      throw new Error(`No migrations found in ${directory}: were the .sql files copied?`);
    }
    const applied = await postgrator.migrate();
    return {
      applied: applied.map((migration) => migration.version),
      version: await postgrator.getDatabaseVersion(),
    };
  });
}
