import type { FastifyInstance } from 'fastify';
import type { Service } from '../../service/service.js';
import { HttpFailure } from '../failure.js';

/** How long /readyz waits for the database before calling it down. */
const READY_TIMEOUT_MS = 2000;

/** Operations answer while the service sheds load: they are how operators see it. */
const OPS = { shed: false };

/** Operations: liveness, readiness, metrics and the JWKS. They are never suspended or shed. */
export async function opsRoutes(app: FastifyInstance, { service }: { service: Service }) {
  app.get('/healthz', { config: OPS }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: OPS }, async () => {
    try {
      await withTimeout(service.store.ping(), READY_TIMEOUT_MS);
    } catch (cause) {
      throw new HttpFailure('unavailable', 'the database does not answer', {
        retryAfterSeconds: 5,
        cause,
      });
    }
    return { status: 'ready' };
  });

  app.get('/metrics', { config: OPS }, async (_request, reply) => {
    // As of the switch's last read, so the gauge is never stale at scrape time.
    service.metrics.suspended.set(service.suspendSwitch.reading().kind === 'suspended' ? 1 : 0);
    const body = await service.metrics.registry.metrics();
    return reply.type(service.metrics.registry.contentType).send(body);
  });

  app.get('/.well-known/jwks.json', { config: OPS }, async (_request, reply) => {
    // Public keys change only on rotation; a short cache spares verifiers a fetch per token.
    return reply.header('cache-control', 'public, max-age=300').send(service.jwks());
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
