import { createHash } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Service } from '../service/service.js';
import { ANSWERS } from './answers.js';
import { HttpFailure } from './failure.js';
import { createGuards } from './guards.js';
import { registerLoadShedding } from './load-shedding.js';
import { replyFailure, toFailure } from './reply-failure.js';
import { apiRoutes } from './routes/api.js';
import { opsRoutes } from './routes/ops.js';
import { pageRoutes } from './routes/pages.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { FAVICON_PATH, favicon, type ShellOptions, stylesheet } from './views/index.js';

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
  const shell: ShellOptions = { productName: config.productName, stylesheetHref: STYLESHEET_PATH };
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Fastify takes a hop count too, though its types only list the other forms.
    trustProxy: config.trustProxy as boolean | string,
    // Shutdown waits for requests in flight but not for idle keep-alive sockets.
    forceCloseConnections: 'idle',
    // Requests that arrive while closing (on a busy keep-alive connection) are refused by the
    // hook below, as 503 `unavailable` with Retry-After: Fastify's own 503 has neither the
    // contract's shape nor Retry-After.
    return503OnClosing: false,
    ajv: {
      // Types are checked, never coerced: `{"email": 42}` is a bad request, not "42".
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
    // A URL Fastify cannot decode (`/verify%zz`) or a path parameter over its length limit
    // is answered before routing and before any hook: without this, as Fastify's own JSON
    // (`{"error": "Bad Request", "code": "FST_ERR_BAD_URL"}`), never a page.
    frameworkErrors: (error, request, reply) => {
      const failure =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? // No id, token or name is that long: whatever it names does not exist.
            new HttpFailure('not_found', 'no such route or resource')
          : new HttpFailure('invalid_request', 'the URL is malformed');
      reply.headers(SECURITY_HEADERS);
      service.metrics.httpRequests.inc({
        method: request.method,
        route: 'unmatched',
        status: String(ANSWERS[failure.code].status),
      });
      return replyFailure(request, reply, failure, shell);
    },
  });

  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES });

  // After the security headers' hook, so the refusal carries them too.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new HttpFailure('unavailable', 'the service is shutting down; try again in a moment', {
      retryAfterSeconds: 5,
    });
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    service.metrics.httpRequests.inc({
      method: request.method,
      route,
      status: String(reply.statusCode),
    });
    service.metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    done();
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
    rateLimits: service.rateLimits,
    enabled: config.rateLimits,
    detector: service.detector,
    onSuspendedRefusal: () => service.metrics.suspendedRefusals.inc(),
    onRateLimited: (limit) => service.metrics.rateLimited.inc({ limit }),
  });

  await registerLoadShedding(app, service);
  app.get(FAVICON_PATH, { config: { shed: false } }, (_request, reply) =>
    reply.header('cache-control', 'public, max-age=86400').type('image/svg+xml').send(favicon),
  );
  app.get(STYLESHEET_PATH, { config: { shed: false } }, (_request, reply) =>
    reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .type('text/css; charset=utf-8')
      .send(stylesheet),
  );
  await app.register(opsRoutes, { service });
  await app.register(apiRoutes, { service, guards, shell });
  await app.register(pageRoutes, { service, guards, shell });
  return app;
}
