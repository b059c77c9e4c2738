import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const OUT = join(ROOT, 'test-output', 'bench');

/** Runs `npm run bench -- --quick` as npm would; resolves with its exit code and output. */
function runQuickBench(): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('exit', (code) => done({ code, output }));
  });
}

// A smoke run: it proves every scenario of the bench runs and gets the answers it expects
// (the bench exits non-zero otherwise, e.g. when a rate limit answers 429); it asserts no
// speed. It writes into test-output/, never bench/RESULTS.md.
describe('npm run bench -- --quick', () => {
  it('measures every scenario and writes its report', { timeout: 180_000 }, async () => {
    const { code, output } = await runQuickBench();
    expect(code, output).toBe(0);

    const results = JSON.parse(await readFile(join(OUT, 'results-quick.json'), 'utf8')) as {
      http: { scenarios: { server: string; scenario: string; ok: boolean; cpuUsPerReq: number }[] };
      micro: { lifecycle: { strategy: string; store: string }[] };
    };
    const servers = new Set(results.http.scenarios.map((s) => s.server));
    expect(servers).toContain('hello');
    expect(servers).toContain('opaque + SQLite');
    expect(servers).toContain('jwt + SQLite');
    for (const s of results.http.scenarios) {
      expect(s.ok, `${s.server}, ${s.scenario}`).toBe(true);
      expect(s.cpuUsPerReq).toBeGreaterThan(0);
    }
    expect(results.micro.lifecycle.length).toBeGreaterThanOrEqual(2);

    const markdown = await readFile(join(OUT, 'RESULTS.md'), 'utf8');
    expect(markdown).toContain('### Targets');
    expect(markdown).toContain('Recommendation for SQLite');
    const svg = await readFile(join(OUT, 'cpu-per-request.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[^>]*>/);
  });
});
