import type { ServerResponse } from 'node:http';
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
    // The server's close() drops the connections idle at that moment, but one whose request
    // is in flight turns idle only after it, and a keep-alive client would then hold the
    // exit for the whole keep-alive timeout (72 s). So while stopping, every response in
    // flight says `Connection: close`, and every finished one closes the idle connections.
    const inFlight = new Set<ServerResponse>();
    app.server.on('request', (_request, response: ServerResponse) => {
      inFlight.add(response);
      response.once('finish', () => {
        inFlight.delete(response);
        if (stopping) app.server.closeIdleConnections();
      });
      response.once('close', () => inFlight.delete(response));
    });
    const stop = async (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'already stopping: requests in flight are finishing');
        return;
      }
      stopping = true;
      logger.info({ signal }, 'stopping: finishing requests in flight');
      for (const response of inFlight) {
        if (!response.headersSent) response.setHeader('connection', 'close');
      }
      // Stop taking requests and finish those in flight, then let the worker finish its
      // send and release the database: every committed mail stays in the outbox.
      await app.close();
      await service.close();
      logger.info('stopped');
      process.exit(0);
    };
    // `on`, not `once`: a repeated signal must not fall back to the default action and kill
    // the process halfway through the drain.
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
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
