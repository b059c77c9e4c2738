import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { MailproofError } from '../core/errors.js';
import { ANSWERS } from './answers.js';
import { HttpFailure } from './failure.js';
import type { ShellOptions } from './views/index.js';

/** Every 429 and 503 carries Retry-After; these apply when the refusal named none. */
const DEFAULT_RETRY_AFTER: Partial<Record<number, number>> = { 429: 60, 503: 5 };

/** Whether this request should get a page rather than JSON. */
export function wantsPage(request: FastifyRequest): boolean {
  const config = request.routeOptions.config as { page?: boolean } | undefined;
  if (config?.page !== undefined) return config.page;
  // No route matched (404) or the request failed before routing: ask the client.
  return (request.headers.accept ?? '').includes('text/html') && !request.url.startsWith('/v1/');
}

/**
 * Turns anything thrown while answering into an `HttpFailure`: ours map by code, Fastify's
 * by kind (validation, body size, content type), and anything else is a 500 `internal`
 * whose details go only to the log.
 */
export function toFailure(error: unknown): HttpFailure {
  if (error instanceof HttpFailure) return error;
  if (error instanceof MailproofError) return HttpFailure.from(error);
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    return new HttpFailure('invalid_request', `request ${fastifyError.message ?? 'is invalid'}`);
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fastifyError.statusCode === 413) {
    return new HttpFailure('payload_too_large', 'the body is larger than 16 KiB');
  }
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new HttpFailure(
      'invalid_request',
      'the body must be JSON (Content-Type: application/json) or a form',
    );
  }
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return new HttpFailure('invalid_request', fastifyError.message ?? 'the request is malformed');
  }
  return new HttpFailure('internal', 'something went wrong on our side', { cause: error });
}

/** Sends a failure as JSON `{error: {code, message}}` or as its page, with Retry-After. */
export function replyFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  failure: HttpFailure,
  shell: ShellOptions,
): FastifyReply {
  const answer = ANSWERS[failure.code];
  const retryAfter = failure.retryAfterSeconds ?? DEFAULT_RETRY_AFTER[answer.status];
  reply.code(answer.status);
  if (retryAfter !== undefined) reply.header('retry-after', String(Math.ceil(retryAfter)));
  if (failure.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
  if (wantsPage(request)) {
    const withRetry =
      retryAfter === failure.retryAfterSeconds
        ? failure
        : new HttpFailure(failure.code, failure.message, {
            retryAfterSeconds: retryAfter,
            ...(failure.token ? { token: failure.token } : {}),
          });
    return reply.type('text/html; charset=utf-8').send(answer.page(withRetry, shell, request.id));
  }
  const message =
    answer.status >= 500 && failure.code === 'internal'
      ? `something went wrong on our side (reference ${request.id})`
      : failure.message;
  return reply.send({ error: { code: failure.code, message } });
}
