import { createHash } from 'node:crypto';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Service } from '../service/service.js';
import { HttpFailure } from './failure.js';
import { createGuards } from './guards.js';
import { replyFailure, toFailure } from './reply-failure.js';
import { apiRoutes } from './routes/api.js';
import { opsRoutes } from './routes/ops.js';
import { pageRoutes } from './routes/pages.js';
import { type ShellOptions, stylesheet } from './views/index.js';

/** The contract's body limit: larger bodies are 413 `payload_too_large`. */
const BODY_LIMIT_BYTES = 16 * 1024;
const STYLESHEET_HASH = createHash('sha256').update(stylesheet).digest('hex').slice(0, 12);
const STYLESHEET_PATH = `/assets/style.${STYLESHEET_HASH}.css`;

/**
 * Builds the Fastify app over a service: security headers, body parsing, the API, the
 * pages, operations, and one error path that answers every failure as JSON or as a page.
 * Routes are thin: the lifecycle lives in the core.
 */
export async function buildApp(service: Service): Promise<FastifyInstance> {
  const { config, logger } = service;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Fastify takes a hop count too, though its types only list the other forms.
    trustProxy: config.trustProxy as boolean | string,
    // Shutdown waits for requests in flight but not for idle keep-alive sockets.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ajv: {
      // Types are checked, never coerced: `{"email": 42}` is a bad request, not "42".
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
  });
  const shell: ShellOptions = { productName: config.productName, stylesheetHref: STYLESHEET_PATH };

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES });

  app.addHook('onSend', async (request, reply) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    service.metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });

  app.setErrorHandler((error, request, reply) => {
    const failure = toFailure(error);
    if (failure.code === 'internal') {
      request.log.error({ err: error }, 'unexpected error');
    } else if (failure.code === 'unavailable') {
      request.log.warn({ err: failure.cause ?? error }, 'dependency unavailable');
    }
    return replyFailure(request, reply, failure, shell);
  });

  app.setNotFoundHandler((request, reply) =>
    replyFailure(request, reply, new HttpFailure('not_found', 'no such route'), shell),
  );

  const guards = createGuards({
    suspendSwitch: service.suspendSwitch,
    onSuspendedRefusal: () => service.metrics.suspendedRefusals.inc(),
  });

  app.get(STYLESHEET_PATH, (_request, reply) =>
    reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .type('text/css; charset=utf-8')
      .send(stylesheet),
  );
  await app.register(opsRoutes, { service });
  await app.register(apiRoutes, { service, guards });
  await app.register(pageRoutes, { service, guards, shell });
  return app;
}
