import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { parseEmail } from '../core/email.js';
import { InvalidInputError } from '../core/errors.js';
import type { VerifyOutcome } from '../core/outcome.js';
import type { AttackDetector } from '../protection/attack-detector.js';
import type { CountedLimit, LimitName, RateLimits } from '../protection/rate-limits.js';
import type { SuspendSwitch } from '../protection/suspend-switch.js';
import { HttpFailure } from './failure.js';

/**
 * The checks in front of the routes that issue, verify or resend, cheapest first: the
 * suspend switch (a cached read), then the rate limits. `recordVerify` feeds what a
 * verification taught back into the limits and the attack detector.
 */
export interface Guards {
  /** Every public route: the per-client limit. */
  client: preHandlerAsyncHookHandler;
  /** `POST /v1/verifications` (the app, with its API key): the per-recipient limit. */
  issue: preHandlerAsyncHookHandler;
  /** Sign-up and resend (anyone): per-client issue limit and per-recipient limit. */
  publicIssue: preHandlerAsyncHookHandler;
  /** Verify: refused while the client is blocked for failed verifications. */
  verify: preHandlerAsyncHookHandler;
  /** After a verification: failures count against the client and towards an attack. */
  recordVerify(request: FastifyRequest, outcome: VerifyOutcome): Promise<void>;
}

/** What the guards check against. */
export interface GuardOptions {
  suspendSwitch: SuspendSwitch;
  rateLimits: RateLimits;
  /** The limits in force: a null one is switched off. */
  enabled: Readonly<Record<LimitName, unknown>>;
  detector: AttackDetector | null;
  onSuspendedRefusal?: () => void;
  onRateLimited?: (limit: LimitName) => void;
}

/** Builds the guards. */
export function createGuards(options: GuardOptions): Guards {
  const { suspendSwitch, rateLimits, enabled, detector } = options;

  const limit = async (name: CountedLimit, key: string) => {
    if (enabled[name] === null) return;
    const decision = await rateLimits.check(name, key);
    if (!decision.allowed) refuse(name, decision.retryAfterSeconds);
  };

  // `token`: the one posted, so the too-many-attempts page offers "Try again" with it.
  const refuse = (name: LimitName, retryAfterSeconds: number, token?: string): never => {
    options.onRateLimited?.(name);
    throw new HttpFailure(
      'rate_limited',
      `too many requests; try again in ${retryAfterSeconds} s`,
      {
        retryAfterSeconds,
        ...(token ? { token } : {}),
      },
    );
  };

  // Fails closed: while the switch cannot be read, nothing is issued or verified.
  const notSuspended = (request: FastifyRequest) => {
    const reading = suspendSwitch.reading();
    if (reading.kind === 'open') return;
    options.onSuspendedRefusal?.();
    const token = tokenOf(request.body);
    const keep = token ? { token } : {};
    if (reading.kind === 'unknown') {
      throw new HttpFailure(
        'unavailable',
        'the protection state cannot be read, so requests are refused until it can',
        { retryAfterSeconds: reading.retryAfterSeconds, ...keep },
      );
    }
    throw new HttpFailure('suspended', 'email verification is paused for safety; try again later', {
      retryAfterSeconds: reading.retryAfterSeconds,
      ...keep,
    });
  };

  // Counted for every well-formed address, known or not, so a 429 reveals nothing.
  // The detector still counts while suspended, so a flood that goes on keeps it suspended.
  const recipient = async (request: FastifyRequest) => {
    const key = emailKeyOf(request.body);
    if (key !== null) detector?.recordIssued(key);
    notSuspended(request);
    if (key !== null) await limit('email', key);
  };

  return {
    client: async (request) => limit('client', request.ip),
    issue: async (request) => recipient(request),
    publicIssue: async (request) => {
      await limit('issue_client', request.ip);
      await recipient(request);
    },
    verify: async (request) => {
      notSuspended(request);
      if (enabled.verify_failures === null) return;
      const blocked = await rateLimits.isBlocked(request.ip);
      if (!blocked.allowed) {
        refuse('verify_failures', blocked.retryAfterSeconds, tokenOf(request.body));
      }
    },
    recordVerify: async (request, outcome) => {
      if (outcome.status === 'verified' || outcome.status === 'already_verified') return;
      detector?.recordVerifyFailed();
      if (enabled.verify_failures !== null) await rateLimits.recordFailure(request.ip);
    },
  };
}

function emailKeyOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  try {
    return parseEmail((body as Record<string, unknown>).email).key;
  } catch (error) {
    if (error instanceof InvalidInputError) return null;
    throw error;
  }
}

function tokenOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const token = (body as Record<string, unknown>).token;
  return typeof token === 'string' && token.length <= 4096 ? token : undefined;
}
