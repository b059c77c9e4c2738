#!/usr/bin/env node
import { Command } from 'commander';
import { MailproofError } from '../core/errors.js';
import { benchCommand } from './commands/bench.js';
import { keysCommand } from './commands/keys.js';
import { migrateCommand } from './commands/migrate.js';
import { sendTestCommand } from './commands/send-test.js';
import { serveCommand } from './commands/serve.js';
import { switchCommands } from './commands/switch.js';

const program = new Command('mailproof')
  .description('Prove that a person owns an email address: mail a link, verify the click.')
  .showHelpAfterError();

serveCommand(program);
migrateCommand(program);
keysCommand(program);
switchCommands(program);
sendTestCommand(program);
benchCommand(program);

try {
  await program.parseAsync();
} catch (error) {
  // One line naming what is wrong, then a non-zero exit: no stack trace for a bad setting.
  const message =
    error instanceof MailproofError || error instanceof Error ? error.message : String(error);
  console.error(`mailproof: ${message}`);
  process.exit(1);
}
