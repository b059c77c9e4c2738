import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { VerificationStatus } from '../../core/outcome.js';
import type { Service } from '../../service/service.js';
import { HttpFailure } from '../failure.js';
import type { Guards } from '../guards.js';
import { replyFailure } from '../reply-failure.js';
import { verifyAnswer } from '../verify-answer.js';
import type { ShellOptions } from '../views/index.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const stringField = { type: 'string' } as const;

/**
 * What a verification id can look like: printable ASCII, at most 64 characters. Anything
 * else names nothing, and must not reach the store (PostgreSQL refuses a NUL in text).
 */
const PLAUSIBLE_ID = /^[\x21-\x7e]{1,64}$/;

/** The media type of a Content-Type header, lower-cased, without parameters. */
function mediaType(contentType: string): string {
  if (contentType === 'application/json') return contentType;
  return contentType.split(';', 1)[0]!.trim().toLowerCase();
}

/** The JSON API under /v1: issue, verify, resend, status, revoke, and the suspend switch. */
export async function apiRoutes(
  app: FastifyInstance,
  { service, guards, shell }: { service: Service; guards: Guards; shell: ShellOptions },
) {
  // The API speaks JSON only: a form or text body is a 400 `invalid_request`, even though
  // the pages' form parser would read it. Runs after the API key check and the body limit.
  app.addHook('preValidation', async (request) => {
    const contentType = request.headers['content-type'];
    if (
      request.method === 'POST' &&
      contentType !== undefined &&
      mediaType(contentType) !== 'application/json'
    ) {
      throw new HttpFailure(
        'invalid_request',
        'the body must be JSON (Content-Type: application/json)',
      );
    }
  });

  const notFound = () => new HttpFailure('not_found', 'no verification has this id');

  const requireApiKey = async (request: FastifyRequest) => {
    if (!service.apiKey.accepts(request.headers.authorization)) {
      throw new HttpFailure(
        'unauthorized',
        'a valid API key is required: Authorization: Bearer <key>',
      );
    }
  };

  app.post(
    '/v1/verifications',
    {
      onRequest: requireApiKey,
      preHandler: guards.issue,
      schema: {
        body: {
          type: 'object',
          required: ['email'],
          properties: { email: stringField, subject: stringField, purpose: stringField },
        },
      },
    },
    async (request, reply) => {
      const issued = await service.verifications.issue(request.body);
      return reply.code(202).send({
        id: issued.id,
        email: issued.email,
        expiresAt: iso(issued.expiresAt),
        strategy: issued.strategy,
      });
    },
  );

  app.post<{ Body: { token: string } }>(
    '/v1/verify',
    {
      onRequest: guards.client,
      preHandler: guards.verify,
      schema: {
        body: { type: 'object', required: ['token'], properties: { token: stringField } },
      },
    },
    async (request, reply) => {
      const outcome = await service.verifications.verify(request.body.token);
      await guards.recordVerify(request, outcome);
      const answer = verifyAnswer(outcome);
      // Answered here rather than thrown: a refused token is an expected answer, and
      // Fastify's error path cost about 12 µs more per answer (bare Fastify, measured).
      if (answer.failure) return replyFailure(request, reply, answer.failure, shell);
      return reply.code(200).send({ ...answer.body, verifiedAt: iso(answer.body.verifiedAt) });
    },
  );

  app.post<{ Body: { email: string } }>(
    '/v1/resend',
    {
      onRequest: guards.client,
      preHandler: guards.publicIssue,
      schema: {
        body: { type: 'object', required: ['email'], properties: { email: stringField } },
      },
    },
    async (request, reply) => {
      await service.verifications.resend(request.body.email);
      return reply.code(202).send({});
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/verifications/:id',
    { onRequest: requireApiKey },
    async (request) => {
      if (!PLAUSIBLE_ID.test(request.params.id)) throw notFound();
      const status = await service.verifications.status(request.params.id);
      if (!status) throw notFound();
      return statusBody(status);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/verifications/:id',
    { onRequest: requireApiKey },
    async (request, reply) => {
      if (!PLAUSIBLE_ID.test(request.params.id)) throw notFound();
      const result = await service.verifications.revoke(request.params.id);
      if (result === 'not_found') throw notFound();
      return reply.code(204).send();
    },
  );

  app.post<{ Body: { reason?: string; seconds?: number } | null }>(
    '/v1/admin/suspend',
    {
      onRequest: requireApiKey,
      schema: {
        body: {
          anyOf: [
            { type: 'null' },
            {
              type: 'object',
              properties: {
                // Logged and stored: no control characters (PostgreSQL refuses a NUL).
                reason: { type: 'string', maxLength: 500, pattern: '^[^\\p{Cc}]*$' },
                seconds: { type: 'integer', minimum: 1, maximum: 30 * 86_400 },
              },
            },
          ],
        },
      },
    },
    async (request) => {
      const suspension = await service.suspendSwitch.suspend({
        reason: request.body?.reason ?? null,
        seconds: request.body?.seconds ?? null,
      });
      service.metrics.suspensions.inc({ auto: 'false' });
      request.log.warn({ reason: suspension.reason, until: suspension.until }, 'suspended by API');
      return { suspended: true, until: iso(suspension.until), reason: suspension.reason };
    },
  );

  app.post('/v1/admin/resume', { onRequest: requireApiKey }, async (request) => {
    await service.suspendSwitch.resume();
    request.log.warn('resumed by API');
    return { suspended: false };
  });

  app.get('/v1/admin/state', { onRequest: requireApiKey }, async () => {
    const state = await service.suspendSwitch.read();
    return {
      suspended: state.suspended,
      until: iso(state.until),
      reason: state.reason,
      auto: state.auto,
      since: iso(state.since),
    };
  });
}

function statusBody(status: VerificationStatus) {
  return {
    id: status.id,
    email: status.email,
    subject: status.subject,
    purpose: status.purpose,
    status: status.status,
    createdAt: iso(status.createdAt),
    expiresAt: iso(status.expiresAt),
    verifiedAt: iso(status.verifiedAt),
    revokedAt: iso(status.revokedAt),
  };
}
