import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../../config.js';
import { ConfigError, InvalidInputError } from '../../core/errors.js';
import { systemClock } from '../../core/system.js';
import { SuspendSwitch } from '../../protection/suspend-switch.js';
import { createLogger } from '../../service/logger.js';
import { openSharedState } from '../../service/shared-state.js';
import { openStore, storeOptions } from '../../store/open-store.js';
import { configFrom, STATE_SETTINGS, withConfigOptions } from '../config-options.js';

/**
 * Opens the shared state the running instances read (Redis when configured, else the
 * database), and closes it after `work`. The
 * database must already be the service's: a mistyped URL or data dir must not create (and
 * migrate) a fresh one, where `suspend` would report success that no instance ever sees.
 */
async function withSwitch<T>(
  config: Config,
  work: (sw: SuspendSwitch, depth: () => Promise<{ pending: number; dead: number }>) => Promise<T>,
): Promise<T> {
  const notThere = (detail: string) =>
    new ConfigError(
      'MAILPROOF_DATABASE_URL',
      `${detail}: is it the database the service uses? ("mailproof migrate" creates one)`,
    );
  if (config.databaseUrl.startsWith('sqlite:')) {
    const path = config.databaseUrl.slice('sqlite:'.length);
    if (path !== ':memory:' && !existsSync(path)) throw notThere(`no database file at ${path}`);
  }
  const store = await openStore(config.databaseUrl, { ...storeOptions(config), migrate: false });
  try {
    try {
      await store.readSuspension();
    } catch (error) {
      throw notThere(
        `no mailproof schema there (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    const shared = await openSharedState(config, store, createLogger('warn'));
    try {
      const sw = new SuspendSwitch({ state: shared.suspension, clock: systemClock });
      return await work(sw, () => store.outboxDepth());
    } finally {
      await shared.close();
    }
  } finally {
    await store.close();
  }
}

const iso = (ms: number | null) => (ms === null ? 'until resumed' : new Date(ms).toISOString());

/** `suspend`, `resume` and `status`: the attack-mode switch, as every instance sees it. */
export function switchCommands(program: Command): void {
  withConfigOptions(
    program
      .command('suspend')
      .description('stop issuing and verifying on every instance (tokens stay valid)')
      .option('--reason <text>', 'why, shown to operators (the page stays general)')
      .option('--seconds <n>', 'lift by itself after this many seconds'),
    STATE_SETTINGS,
  ).action(async (options: { reason?: string; seconds?: string }, command: Command) => {
    const seconds = options.seconds === undefined ? null : Number(options.seconds);
    if (seconds !== null && (!Number.isInteger(seconds) || seconds < 1)) {
      throw new InvalidInputError('invalid_request', '--seconds must be a whole number above 0');
    }
    await withSwitch(configFrom(command), async (sw) => {
      const state = await sw.suspend({ reason: options.reason ?? null, seconds });
      console.log(`suspended ${iso(state.until)}${state.reason ? `: ${state.reason}` : ''}`);
    });
  });

  withConfigOptions(
    program.command('resume').description('resume issuing and verifying on every instance'),
    STATE_SETTINGS,
  ).action(async (_options, command: Command) => {
    await withSwitch(configFrom(command), async (sw) => {
      await sw.resume();
      console.log('resumed');
    });
  });

  withConfigOptions(
    program.command('status').description('show the suspend switch and the outbox'),
    STATE_SETTINGS,
  ).action(async (_options, command: Command) => {
    await withSwitch(configFrom(command), async (sw, depth) => {
      const state = await sw.read();
      const outbox = await depth();
      console.log(
        state.suspended
          ? `suspended ${iso(state.until)} (${state.auto ? 'automatic' : 'by an operator'})${state.reason ? `: ${state.reason}` : ''}`
          : 'active: issuing and verifying',
      );
      console.log(`outbox: ${outbox.pending} pending, ${outbox.dead} dead`);
    });
  });
}
