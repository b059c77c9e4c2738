import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * `--pin`: the server under test on one core, the load generator on another (Linux
 * `taskset`); PostgreSQL stays free to use either.
 *
 * Off by default. Unpinned, on 2 cores, the server and autocannon take turns on both, and
 * a server's CPU per request moved by about ±10% between identical runs (±4% pinned), so
 * pinning is the better setting to compare two versions of the code (`bench:profile`).
 * But pinned, the hello-world ceiling is bound by the load generator's single core: it
 * answers fewer requests per wake-up, and its CPU per request was 19 µs in a pinned run
 * against 14–15 µs in the unpinned runs of the same day on this machine. Every ratio to it
 * would shrink for that reason alone, so the ratios the targets are judged by come from
 * unpinned runs.
 */
export interface CpuPlan {
  server: number;
  load: number;
}

let plan: CpuPlan | null = null;

/** Turns pinning on; throws saying why when this machine cannot pin. */
export function enablePinning(): void {
  if (availableParallelism() < 2) throw new Error('--pin needs at least 2 cores');
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  } catch {
    throw new Error('--pin needs taskset (util-linux)');
  }
  plan = { server: 1, load: 0 };
}

/** Pins every thread of `pid` (existing ones; new ones inherit) to `cpu`. */
function pin(pid: number, cpu: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** Pins this process (the load generator) to its core, when pinning is on. */
export function pinLoadGenerator(): void {
  if (plan) pin(process.pid, plan.load);
}

/** Pins a server child to its core, when pinning is on. */
export function pinServer(pid: number | undefined): void {
  if (plan && pid !== undefined) pin(pid, plan.server);
}

/** One line for the results: how the cores were shared. */
export function cpuPlanText(): string {
  return plan
    ? `--pin: server on core ${plan.server}, load generator on core ${plan.load}; PostgreSQL unpinned`
    : 'unpinned: the server, the load generator and PostgreSQL share the cores';
}
