import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Which core the server under test runs on and which the load generator runs on, or null
 * when they cannot be kept apart (one core, or no `taskset`: not Linux, or util-linux
 * missing). On a 2-core machine, unpinned, the server and autocannon take turns on both
 * cores: the server's CPU per request then swings by ±15% between identical runs and
 * depends on how often the two were descheduled. Pinned, each has a core of its own, as a
 * server has in production; the database server (PostgreSQL) is left free to use either.
 */
export interface CpuPlan {
  server: number;
  load: number;
}

let plan: CpuPlan | null | undefined;

/** The plan for this machine, decided once. `BENCH_NO_PIN=1` turns pinning off. */
export function cpuPlan(): CpuPlan | null {
  if (plan !== undefined) return plan;
  plan = null;
  if (process.env.BENCH_NO_PIN === '1' || availableParallelism() < 2) return plan;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    plan = { server: 1, load: 0 };
  } catch {
    // No taskset: run unpinned and say so in the results.
  }
  return plan;
}

/** Pins every thread of `pid` (existing ones; new ones inherit) to `cpu`. */
export function pin(pid: number, cpu: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** Pins this process (the load generator) to its core, if the plan pins. */
export function pinLoadGenerator(): void {
  const p = cpuPlan();
  if (p) pin(process.pid, p.load);
}

/** Pins a server child to its core, if the plan pins. */
export function pinServer(pid: number | undefined): void {
  const p = cpuPlan();
  if (p && pid !== undefined) pin(pid, p.server);
}

/** One line for the results: how the cores were shared. */
export function cpuPlanText(): string {
  const p = cpuPlan();
  return p
    ? `server pinned to core ${p.server}, load generator to core ${p.load} (taskset); PostgreSQL unpinned`
    : 'unpinned: the server and the load generator share the cores';
}
