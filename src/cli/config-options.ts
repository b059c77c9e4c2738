import type { Command } from 'commander';
import { type Config, loadConfig, type RawSettings, SETTINGS, type SettingKey } from '../config.js';

/** The settings an admin command acts on: where the shared state lives. */
export const STATE_SETTINGS: readonly SettingKey[] = [
  'dataDir',
  'databaseUrl',
  'redisUrl',
  'logLevel',
];

/**
 * Adds a flag for each setting (`--port`, `--database-url`, ...) to a command: all of them,
 * or only those it uses (the others are still read from the environment).
 */
export function withConfigOptions(command: Command, only?: readonly SettingKey[]): Command {
  for (const setting of SETTINGS) {
    if (only && !only.includes(setting.key)) continue;
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
