import type { Command } from 'commander';
import { buildApp } from '../../http/app.js';
import { createLogger } from '../../service/logger.js';
import { openService } from '../../service/service.js';
import { configFrom, withConfigOptions } from '../config-options.js';

/** `mailproof serve`: runs the service until SIGTERM or SIGINT, then stops cleanly. */
export function serveCommand(program: Command): void {
  withConfigOptions(
    program
      .command('serve')
      .description('run the HTTP service and the outbox worker (the default for npm start)'),
  ).action(async (_options, command: Command) => {
    const config = configFrom(command);
    const logger = createLogger(config.logLevel);
    const service = await openService(config, { logger });
    const app = await buildApp(service);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping: finishing requests in flight');
      // Stop taking requests and finish those in flight, then let the worker finish its
      // send and release the database: every committed mail stays in the outbox.
      await app.close();
      await service.close();
      logger.info('stopped');
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    logger.info(
      {
        url,
        strategy: config.strategy,
        database: config.databaseUrl.split(':')[0],
        mail: service.devCatcher ? 'embedded catcher' : 'smtp',
      },
      `mailproof listening on ${url}${service.devCatcher ? ` (caught mails: ${url}/dev/inbox)` : ''}`,
    );
  });
}
