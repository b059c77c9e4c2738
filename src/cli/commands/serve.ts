import cluster from 'node:cluster';
import type { ServerResponse } from 'node:http';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { buildApp } from '../../http/app.js';
import { createLogger } from '../../service/logger.js';
import { openService } from '../../service/service.js';
import { configFrom, withConfigOptions } from '../config-options.js';
import {
  listenUrl,
  MAX_WORKERS,
  parseWorkers,
  reportListening,
  runClusterPrimary,
} from '../serve-cluster.js';

/**
 * `mailproof serve`: runs the service until SIGTERM or SIGINT, then stops cleanly. With
 * `--workers N` (N > 1) this process becomes the primary of a cluster of N processes serving
 * the same port (see `runClusterPrimary`); each worker comes back here and runs `runServer`.
 */
export function serveCommand(program: Command): void {
  withConfigOptions(
    program
      .command('serve')
      .description('run the HTTP service and the outbox worker (the default for npm start)')
      .option(
        '--workers <n>',
        `processes serving the same port, for the cores of one machine: 1 to ${MAX_WORKERS} (1: no cluster; several need MAILPROOF_REDIS_URL to share rate limits)`,
      ),
  ).action(async (options: { workers?: string }, command: Command) => {
    const workers = parseWorkers(options.workers);
    const config = configFrom(command);
    const logger = createLogger(config.logLevel);
    if (workers > 1 && cluster.isPrimary) {
      await runClusterPrimary(config, logger.child({ cluster: 'primary' }), workers);
      return;
    }
    // A worker of ours re-reads the same `--workers N` (N > 1); with 1, even a cluster
    // worker of some other supervisor (pm2) runs as a plain single process.
    const worker = workers > 1 && cluster.isWorker ? cluster.worker : undefined;
    await runServer(config, worker ? logger.child({ worker: worker.id }) : logger, worker?.id);
  });
}

/**
 * The service in this process, until SIGTERM or SIGINT. `workerId` is set in a worker of
 * `serve --workers`: it then logs that it listens under another message, the primary's line
 * being the one that says where the service listens.
 */
async function runServer(config: Config, logger: Logger, workerId?: number): Promise<void> {
  const service = await openService(config, { logger });
  let app: FastifyInstance | null = null;
  let stopping = false;
  // The server's close() drops the connections idle at that moment, but one whose request
  // is in flight turns idle only after it, and a keep-alive client would then hold the
  // exit for the whole keep-alive timeout (72 s). So while stopping, every response in
  // flight says `Connection: close`, and every finished one closes the idle connections.
  const inFlight = new Set<ServerResponse>();
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
    await app?.close();
    await service.close();
    logger.info('stopped');
    process.exit(0);
  };
  // `on`, not `once`: a repeated signal must not fall back to the default action and kill
  // the process halfway through the drain. Set as soon as the outbox worker runs, so a stop
  // while starting (a cluster stopping a worker it just forked) is clean too.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  app = await buildApp(service);
  const server = app.server;
  server.on('request', (_request, response: ServerResponse) => {
    inFlight.add(response);
    response.once('finish', () => {
      inFlight.delete(response);
      if (stopping) server.closeIdleConnections();
    });
    response.once('close', () => inFlight.delete(response));
  });
  if (stopping) return;
  await app.listen({ port: config.port, host: config.host });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = listenUrl(config.host, port);
  const fields = {
    url,
    strategy: config.strategy,
    database: config.databaseUrl.split(':')[0],
    mail: service.devCatcher ? 'embedded catcher' : 'smtp',
  };
  if (workerId !== undefined) {
    logger.info(fields, `worker ${workerId} listening on ${url}`);
    reportListening(port);
    return;
  }
  logger.info(
    fields,
    `mailproof listening on ${url}${service.devCatcher ? ` (caught mails: ${url}/dev/inbox)` : ''}`,
  );
}
