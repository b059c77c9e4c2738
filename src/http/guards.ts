import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { SuspendSwitch } from '../protection/suspend-switch.js';
import { HttpFailure } from './failure.js';

/** Checks run before the routes that issue, verify or resend, cheapest first. */
export interface Guards {
  issue: preHandlerAsyncHookHandler;
  verify: preHandlerAsyncHookHandler;
  resend: preHandlerAsyncHookHandler;
}

/**
 * Builds the guards. While the switch is suspended (or cannot be read: fail closed),
 * issuing, verifying and resending answer 503 `suspended`; the token of a refused verify is
 * kept so the page can offer to try again later.
 */
export function createGuards(options: {
  suspendSwitch: SuspendSwitch;
  onSuspendedRefusal?: () => void;
}): Guards {
  const suspended = async (request: FastifyRequest) => {
    const reading = options.suspendSwitch.reading();
    if (reading.kind === 'open') return;
    options.onSuspendedRefusal?.();
    const token = tokenOf(request.body);
    if (reading.kind === 'unknown') {
      throw new HttpFailure(
        'unavailable',
        'the protection state cannot be read, so requests are refused until it can',
        { retryAfterSeconds: reading.retryAfterSeconds, ...(token ? { token } : {}) },
      );
    }
    throw new HttpFailure('suspended', 'email verification is paused for safety; try again later', {
      retryAfterSeconds: reading.retryAfterSeconds,
      ...(token ? { token } : {}),
    });
  };
  return { issue: suspended, verify: suspended, resend: suspended };
}

function tokenOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const token = (body as Record<string, unknown>).token;
  return typeof token === 'string' && token.length <= 4096 ? token : undefined;
}
