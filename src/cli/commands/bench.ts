import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { SETTINGS } from '../../config.js';
import { configFrom, withConfigOptions } from '../config-options.js';

/** The checkout this file belongs to: src/cli/commands/ or dist/cli/commands/ sit 3 deep. */
const PROJECT_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const BENCH_SCRIPT = resolve(PROJECT_ROOT, 'bench/run.ts');
const TSX = resolve(PROJECT_ROOT, 'node_modules/tsx');

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * `mailproof bench`: the project's benchmark (bench/run.ts --user) against the caller's own
 * configuration: both strategies on a scratch database of the configured kind, created
 * beside the configured one (never the configured database itself), ending with a plain
 * recommendation. The benchmark lives in bench/ and runs under tsx, so this needs the
 * source checkout with its dev dependencies; the command only validates the configuration
 * and hands it over as environment.
 */
export function benchCommand(program: Command): void {
  withConfigOptions(
    program
      .command('bench')
      .description(
        'measure what issuing and verifying cost on this configuration (database, strategy) and recommend a strategy',
      )
      .option('--quick', 'a smoke run of under a minute: figures are only indicative')
      .option('--out <dir>', 'also write RESULTS.md and the chart into this folder'),
  ).action(async (options: { quick?: boolean; out?: string }, command: Command) => {
    // A bad setting stops here with the usual one line, before anything starts.
    const config = configFrom(command);
    if (!existsSync(BENCH_SCRIPT) || !existsSync(TSX)) {
      throw new Error(
        `bench needs the source checkout with its dev dependencies (bench/run.ts and tsx under ${PROJECT_ROOT}); run npm ci there`,
      );
    }
    const env: NodeJS.ProcessEnv = { ...process.env };
    const flags = command.opts<Record<string, string | undefined>>();
    for (const setting of SETTINGS) {
      const value = flags[camelCase(setting.flag)];
      if (value !== undefined) env[setting.env] = value;
    }
    // The bench runs from the project root: paths must not depend on the caller's folder.
    env.MAILPROOF_DATA_DIR = config.dataDir;
    env.MAILPROOF_DATABASE_URL = config.databaseUrl;
    env.MAILPROOF_STRATEGY = config.strategy;
    env.MAILPROOF_MAIL_TEMPLATE = config.mailTemplate ?? '';
    const args = ['--import', 'tsx', BENCH_SCRIPT, '--user'];
    if (options.quick) args.push('--quick');
    if (options.out) args.push('--out', resolve(options.out));
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: 'inherit' });
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    if (code !== 0) process.exit(code ?? 1);
  });
}
