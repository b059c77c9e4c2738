/**
 * Helpers of the cluster tests. Starting `mailproof serve` (with extra arguments and the
 * whole environment in the caller's hands) is `startServe` of test/support/server-process.ts.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';

export {
  type LogLine,
  type ServeProcess,
  type StartServeOptions,
  startServe,
} from '../../support/server-process.js';

/** The node processes whose parent is `pid` (not the esbuild helper tsx starts). */
export async function nodeChildren(pid: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)('ps', [
    '-o',
    'pid=,comm=',
    '--ppid',
    String(pid),
  ]).catch(
    // ps exits 1 when there is no such process.
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  return stdout
    .trim()
    .split('\n')
    .map((row) => row.trim().split(/\s+/))
    .filter(([, command]) => command === 'node')
    .map(([child]) => Number(child));
}

/** One answer: status, headers and the body parsed as JSON when it is JSON. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  text: string;
}

/**
 * A JSON request over `agent` (keep-alive or not), through node:http so that a socket error
 * is an error and not a retry.
 */
export function request(
  agent: http.Agent,
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: {
          ...headers,
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': payload.length }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            // A page or metrics text: kept in `text`.
          }
          resolve({ status: res.statusCode!, headers: res.headers, body: parsed, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The token of a mailed link. */
export function tokenOf(link: string): string {
  return new URL(link).searchParams.get('token')!;
}

/** The value of one sample of a Prometheus text exposition (the first one, no labels). */
export function metricValue(text: string, name: string): number | null {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

/** The q-quantile (0..1) of some numbers, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
