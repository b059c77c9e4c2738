import autocannon, { type AutocannonRequest } from 'autocannon';

/** One autocannon run against a started server. */
export interface LoadOptions {
  url: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** The same body on every request… */
  body?: string;
  /** …or a fresh one per request (unique tokens, unique addresses). */
  nextBody?: () => string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  durationS?: number;
  /** Stop after this many requests instead. */
  amount?: number;
  /** Requests per second over all connections; unset: as fast as the server answers. */
  overallRate?: number;
  /**
   * Generate on a worker thread, so that a flood does not share an event loop with the
   * measured client. Only for a fixed body: responses are then not counted.
   */
  offThread?: boolean;
}

/** What came back. Latencies in ms. */
export interface LoadResult {
  /** Responses received. */
  requests: number;
  /**
   * Requests whose fate is known: answered or timed out. Requests still in flight when the
   * run ends are cut off by autocannon and counted in `errors`, not here.
   */
  sent: number;
  durationS: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses by HTTP status. */
  statuses: Record<string, number>;
  /** Bodies that said `"status":"verified"`: first uses that really verified. */
  verified: number;
  /** Bodies that said `"status":"already_verified"`. */
  alreadyVerified: number;
  errors: number;
  timeouts: number;
}

/**
 * Runs autocannon in this process. The server is elsewhere (a child), so the load
 * generator's own CPU is never billed to it. Bodies are counted for verify outcomes, so a
 * first-use run proves it really consumed fresh tokens.
 */
export function fire(options: LoadOptions): Promise<LoadResult> {
  let verified = 0;
  let alreadyVerified = 0;
  const headers = {
    ...(options.body !== undefined || options.nextBody
      ? { 'content-type': 'application/json' }
      : {}),
    ...options.headers,
  };
  const nextBody = options.nextBody;
  if (options.offThread && nextBody) throw new Error('fire: offThread takes a fixed body only');
  const request: AutocannonRequest = {
    method: options.method,
    path: options.path,
    headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(nextBody ? { setupRequest: (req) => ({ ...req, body: nextBody() }) } : {}),
    // Functions cannot cross into a worker thread (autocannon wants file paths there).
    ...(options.offThread
      ? {}
      : {
          onResponse: (_status: number, body: string) => {
            if (body.includes('"status":"verified"')) verified++;
            else if (body.includes('"status":"already_verified"')) alreadyVerified++;
          },
        }),
  };
  return new Promise((done, fail) => {
    autocannon(
      {
        url: options.url,
        connections: options.connections,
        ...(options.amount !== undefined
          ? { amount: options.amount }
          : { duration: options.durationS ?? 10 }),
        ...(options.overallRate !== undefined ? { overallRate: options.overallRate } : {}),
        timeout: 10,
        // autocannon stops only at a sample tick (default every second): a short run or
        // one bound by `amount` would otherwise idle up to a second, skewing req/s.
        sampleInt: 100,
        ...(options.offThread ? { workers: 1 } : {}),
        requests: [request],
      },
      (error, result) => {
        if (error) {
          fail(error);
          return;
        }
        const statuses: Record<string, number> = {};
        let requests = 0;
        for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) {
          statuses[code] = Number(count);
          requests += Number(count);
        }
        done({
          requests,
          sent: requests + result.timeouts,
          durationS: result.duration,
          rps: requests / result.duration,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          statuses,
          verified,
          alreadyVerified,
          errors: result.errors,
          timeouts: result.timeouts,
        });
      },
    );
  });
}
