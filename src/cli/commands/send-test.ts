import type { Command } from 'commander';
import { parseEmail } from '../../core/email.js';
import { ConfigError } from '../../core/errors.js';
import { SmtpMailer } from '../../mail/smtp-mailer.js';
import { configFrom, withConfigOptions } from '../config-options.js';

/** `mailproof send-test EMAIL`: sends one plain mail through the configured SMTP server. */
export function sendTestCommand(program: Command): void {
  withConfigOptions(
    program
      .command('send-test')
      .argument('<email>', 'where to send the test mail')
      .description('check the SMTP settings by sending one test mail now'),
    ['smtpUrl', 'mailFrom', 'productName'],
  ).action(async (email: string, _options, command: Command) => {
    const config = configFrom(command);
    if (!config.smtpUrl) {
      throw new ConfigError(
        'MAILPROOF_SMTP_URL',
        'not set: the embedded catcher runs only inside "mailproof serve" (see /dev/inbox)',
      );
    }
    const to = parseEmail(email).address;
    const mailer = new SmtpMailer({ url: config.smtpUrl, from: config.mailFrom });
    try {
      await mailer.send({
        to,
        subject: `${config.productName}: test mail`,
        text: `This is a test mail from ${config.productName}. SMTP works.`,
        html: `<p>This is a test mail from ${config.productName.replace(/[<>&"']/g, '')}. SMTP works.</p>`,
      });
      console.log(`sent a test mail to ${to}`);
    } finally {
      await mailer.close();
    }
  });
}
