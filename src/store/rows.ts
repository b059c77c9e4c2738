import type {
  OutboxMail,
  Purpose,
  StoredStatus,
  Suspension,
  VerificationRecord,
} from '../core/ports.js';

/** A `verifications` row as both drivers return it (BIGINT already parsed to number). */
export interface VerificationRow {
  id: string;
  email: string;
  email_key: string;
  subject: string | null;
  purpose: Purpose;
  status: StoredStatus;
  created_at: number;
  expires_at: number;
  verified_at: number | null;
  revoked_at: number | null;
}

/** An `outbox` row. */
export interface OutboxRow {
  id: string;
  verification_id: string;
  recipient: string;
  payload: string | null;
  state: OutboxMail['state'];
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

/** The record of a `verifications` row. */
export function toVerification(row: VerificationRow): VerificationRecord {
  return {
    id: row.id,
    email: row.email,
    emailKey: row.email_key,
    subject: row.subject,
    purpose: row.purpose,
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    verifiedAt: row.verified_at,
    revokedAt: row.revoked_at,
  };
}

/** The mail of an `outbox` row. */
export function toMail(row: OutboxRow): OutboxMail {
  return {
    id: row.id,
    verificationId: row.verification_id,
    recipient: row.recipient,
    payload: row.payload,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    sentAt: row.sent_at,
  };
}

/** The `suspension` row. */
export interface SuspensionRow {
  suspended: number;
  until_at: number | null;
  reason: string | null;
  auto: number;
  since: number | null;
}

/** The switch when no one ever set it. */
export const NOT_SUSPENDED: Readonly<Suspension> = Object.freeze({
  suspended: false,
  until: null,
  reason: null,
  auto: false,
  since: null,
});

/** A suspension row as the record the core uses. */
export function toSuspension(row: SuspensionRow): Suspension {
  return {
    suspended: row.suspended === 1,
    until: row.until_at,
    reason: row.reason,
    auto: row.auto === 1,
    since: row.since,
  };
}
