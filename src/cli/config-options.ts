import type { Command } from 'commander';
import { type Config, loadConfig, type RawSettings, SETTINGS } from '../config.js';

/** Adds a flag for every setting (`--port`, `--database-url`, ...) to a command. */
export function withConfigOptions(command: Command): Command {
  for (const setting of SETTINGS) {
    command.option(`--${setting.flag} <value>`, `${setting.description} [${setting.env}]`);
  }
  return command;
}

/** The configuration from a command's flags over the environment (validated, may throw). */
export function configFrom(command: Command): Config {
  const options = command.opts<Record<string, string | undefined>>();
  const flags: RawSettings = {};
  for (const setting of SETTINGS) {
    const value = options[camelCase(setting.flag)];
    if (value !== undefined) flags[setting.key] = value;
  }
  return loadConfig(process.env, flags);
}

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
