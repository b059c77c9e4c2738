/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self
 * time, the same grouped by package or source folder, and inclusive time of the heaviest
 * callers, optionally over a window of the profile only (one run, not start-up).
 *
 *   tsx bench/cpuprofile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

/** The parts of the .cpuprofile JSON this reads. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One row of a summary: ms of main-thread samples and their share. */
export interface SummaryRow {
  name: string;
  ms: number;
  share: number;
}

/** What `summarise` finds. */
export interface ProfileSummary {
  /** Sampled main-thread time in the window, ms (idle excluded). */
  busyMs: number;
  idleMs: number;
  selfByFunction: SummaryRow[];
  selfByGroup: SummaryRow[];
  inclusiveByFunction: SummaryRow[];
}

/** Where a frame's code comes from: a package, a folder of src/, node's own, or V8's. */
export function groupOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(src|bench)\/(.+)\/[^/]+$/.exec(url) ?? /\/(src|bench)\/()[^/]+$/.exec(url);
  if (own) return `mailproof ${own[1]}/${own[2] ?? ''}`.replace(/\/$/, '');
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  return url;
}

function frameName(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const file = frame.url
    .replace(/^.*\/(node_modules|src|bench)\//, '$1/')
    .replace(/^file:\/\//, '');
  const name = frame.functionName || '(anonymous)';
  return file ? `${name} ${file}:${frame.lineNumber + 1}` : name;
}

function rows(map: Map<string, number>, total: number, top: number): SummaryRow[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
}

/**
 * Self and inclusive time per function and per group over the samples taken within
 * [fromUs, toUs] (the profile's own monotonic clock, µs), idle time left out.
 */
export function summarise(
  profile: CpuProfile,
  options: { fromUs?: number; toUs?: number; top?: number } = {},
): ProfileSummary {
  const top = options.top ?? 25;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const group = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (
      (options.fromUs !== undefined && at < options.fromUs) ||
      (options.toUs !== undefined && at > options.toUs)
    ) {
      return;
    }
    const node = byId.get(id);
    if (!node) return;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      return;
    }
    busy += us;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    const g = groupOf(node.callFrame.url, node.callFrame.functionName);
    group.set(g, (group.get(g) ?? 0) + us);
    const seen = new Set<string>();
    for (let walk: number | undefined = id; walk !== undefined; walk = parent.get(walk)) {
      const frame = byId.get(walk)!.callFrame;
      if (frame.functionName === '(root)') continue;
      const key = frameName(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  });
  return {
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    selfByFunction: rows(self, busy, top),
    selfByGroup: rows(group, busy, top),
    inclusiveByFunction: rows(inclusive, busy, top),
  };
}

/** Reads a .cpuprofile file. */
export async function readProfile(path: string): Promise<CpuProfile> {
  return JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
}

/** The summary as Markdown tables. */
export function formatSummary(summary: ProfileSummary): string {
  const table = (title: string, list: SummaryRow[]) =>
    [
      `| ${title} | ms | share |`,
      '| --- | --- | --- |',
      ...list.map(
        (r) =>
          `| ${r.name.replace(/\|/g, '\\|')} | ${r.ms.toFixed(0)} | ${(r.share * 100).toFixed(1)}% |`,
      ),
    ].join('\n');
  return [
    `Main thread busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms (libuv pool threads are not sampled).`,
    '',
    table('self time by package / folder', summary.selfByGroup),
    '',
    table('self time by function', summary.selfByFunction),
    '',
    table('inclusive time by function', summary.inclusiveByFunction),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  if (!positionals[0]) throw new Error('usage: cpuprofile-summary.ts FILE.cpuprofile [--top N]');
  const summary = summarise(await readProfile(positionals[0]), { top: Number(values.top) });
  console.log(formatSummary(summary));
}
