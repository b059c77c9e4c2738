import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { OutboxDepth } from '../core/ports.js';

/**
 * The service's Prometheus metrics, on a registry of its own (several apps can live in one
 * process, as in tests). Names follow Prometheus conventions: `_total` counters, base units.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'mailproof_http_requests_total',
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'mailproof_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by route.',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly issued = new Counter({
    name: 'mailproof_verifications_issued_total',
    help: 'Verifications issued, by token strategy.',
    labelNames: ['strategy'] as const,
    registers: [this.registry],
  });

  readonly superseded = new Counter({
    name: 'mailproof_verifications_superseded_total',
    help: 'Pending verifications revoked because a newer one replaced them.',
    labelNames: ['strategy'] as const,
    registers: [this.registry],
  });

  readonly verified = new Counter({
    name: 'mailproof_verifications_verified_total',
    help: 'Verify calls, by token strategy and outcome.',
    labelNames: ['strategy', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly mailsSent = new Counter({
    name: 'mailproof_mails_sent_total',
    help: 'Mails handed to the SMTP server.',
    registers: [this.registry],
  });

  readonly mailsFailed = new Counter({
    name: 'mailproof_mails_failed_total',
    help: 'Failed delivery attempts; final="true" when the mail was marked dead.',
    labelNames: ['final'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'mailproof_rate_limited_total',
    help: 'Requests refused by a rate limit, by limit.',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  readonly suspensions = new Counter({
    name: 'mailproof_suspensions_total',
    help: 'Times the service was suspended; auto="true" when the attack detector did it.',
    labelNames: ['auto'] as const,
    registers: [this.registry],
  });

  readonly rateLimitStoreFailures = new Counter({
    name: 'mailproof_rate_limit_store_failures_total',
    help: 'Rate-limit decisions taken per instance because the shared store (Redis) failed.',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  readonly autoSuspensions = new Counter({
    name: 'mailproof_auto_suspensions_total',
    help: 'Automatic suspensions, by the signal that triggered them.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });

  readonly shed = new Counter({
    name: 'mailproof_shed_total',
    help: 'Requests refused with 503 overloaded, by what was over its limit.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly suspendedRefusals = new Counter({
    name: 'mailproof_suspended_refusals_total',
    help: 'Requests refused with 503 suspended.',
    registers: [this.registry],
  });

  readonly suspended = new Gauge({
    name: 'mailproof_suspended',
    help: '1 while issuing and verifying are suspended on this instance, else 0.',
    registers: [this.registry],
  });

  /**
   * `outboxDepth` is read at scrape time, so the gauge is never stale; a failing read
   * leaves the previous value rather than failing the scrape.
   */
  constructor(
    outboxDepth: () => Promise<OutboxDepth>,
    attackWindow: () => Readonly<Record<string, number>> = () => ({}),
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'mailproof_' });
    new Gauge({
      name: 'mailproof_attack_window',
      help: 'What the attack detector counts in its sliding window, by signal.',
      labelNames: ['signal'] as const,
      registers: [this.registry],
      collect() {
        for (const [signal, count] of Object.entries(attackWindow())) this.set({ signal }, count);
      },
    });
    new Gauge({
      name: 'mailproof_outbox_depth',
      help: 'Mails in the outbox, by state (pending: not yet delivered; dead: gave up).',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        try {
          const depth = await outboxDepth();
          this.set({ state: 'pending' }, depth.pending);
          this.set({ state: 'dead' }, depth.dead);
        } catch {
          // The database being down is reported by /readyz; the scrape still answers.
        }
      },
    });
  }
}
