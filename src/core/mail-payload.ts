import type { Purpose } from './ports.js';

/**
 * What a committed verification mail carries, sealed in the outbox row. The worker renders
 * the mail from it at delivery time, so branding changes apply to mails still queued.
 */
export interface VerificationMailPayload {
  kind: 'verification';
  token: string;
  purpose: Purpose;
  /** ms since the epoch: when this mail's token expires. */
  expiresAt: number;
  /** True when the person asked for this mail again (resend). */
  resent: boolean;
}
