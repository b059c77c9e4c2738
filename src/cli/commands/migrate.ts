import type { Command } from 'commander';
import { openStore, storeOptions } from '../../store/open-store.js';
import { configFrom, withConfigOptions } from '../config-options.js';

/** `mailproof migrate`: applies pending schema migrations (serve also does, on start). */
export function migrateCommand(program: Command): void {
  withConfigOptions(
    program.command('migrate').description('apply pending database migrations and exit'),
    ['dataDir', 'databaseUrl', 'logLevel'],
  ).action(async (_options, command: Command) => {
    const config = configFrom(command);
    const store = await openStore(config.databaseUrl, { ...storeOptions(config), migrate: false });
    try {
      const result = await store.migrate();
      console.log(
        result.applied.length
          ? `applied migrations ${result.applied.join(', ')}; schema version ${result.version}`
          : `schema up to date (version ${result.version})`,
      );
    } finally {
      await store.close();
    }
  });
}
