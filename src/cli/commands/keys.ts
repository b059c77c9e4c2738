import type { Command } from 'commander';
import { InvalidInputError } from '../../core/errors.js';
import { generateKey, loadKeyRing, rotateKeys } from '../../keys/load-keys.js';
import { configFrom, withConfigOptions } from '../config-options.js';

/** The settings the key commands use. */
const KEY_SETTINGS = ['dataDir', 'signingKeys', 'signingKeysFile'] as const;

/** `mailproof keys generate | rotate | list`: signing keys of the jwt strategy. */
export function keysCommand(program: Command): void {
  const keys = program.command('keys').description('manage the jwt signing keys');

  keys
    .command('generate')
    .description('print a new Ed25519 private JWK, for MAILPROOF_SIGNING_KEYS (nothing is saved)')
    .action(async () => {
      const key = await generateKey(Date.now());
      console.log(JSON.stringify({ keys: [key.jwk] }));
    });

  withConfigOptions(
    keys
      .command('rotate')
      .description('add a new signing key to the data dir; older keys keep verifying')
      .option(
        '--retire-after <seconds>',
        'retire the older keys this long from now (e.g. the token TTL)',
      ),
    KEY_SETTINGS,
  ).action(async (options: { retireAfter?: string }, command: Command) => {
    const config = configFrom(command);
    const retireAfter = options.retireAfter === undefined ? undefined : Number(options.retireAfter);
    if (retireAfter !== undefined && (!Number.isInteger(retireAfter) || retireAfter < 0)) {
      throw new InvalidInputError(
        'invalid_request',
        '--retire-after must be a whole number of seconds',
      );
    }
    const { created, retiring } = await rotateKeys({
      dataDir: config.dataDir,
      now: Date.now(),
      ...(retireAfter !== undefined ? { retireAfterMs: retireAfter * 1000 } : {}),
    });
    console.log(`new signing key ${created.kid} (signs from the next start)`);
    for (const key of retiring)
      console.log(`key ${key.kid} retires at ${new Date(key.retiredAt!).toISOString()}`);
  });

  withConfigOptions(
    keys.command('list').description('list the keys and which one signs'),
    KEY_SETTINGS,
  ).action(async (_options, command: Command) => {
    const config = configFrom(command);
    const ring = await loadKeyRing({
      dataDir: config.dataDir,
      keysEnv: config.signingKeys,
      keysFile: config.signingKeysFile,
      generateIfMissing: false,
      now: Date.now(),
    });
    for (const key of ring.list()) {
      const role = key.retired ? 'retired' : key.signing ? 'signing' : 'verifying';
      console.log(
        `${key.kid}  ${role.padEnd(9)}  created ${new Date(key.createdAt).toISOString()}`,
      );
    }
  });
}
